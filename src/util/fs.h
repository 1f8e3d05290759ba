/* fs.h — small file-system helpers for durable files (log, member list).
 * Callers: aof.c, cluster.c, main.c (creating dir).  They block on fsync(2):
 * call them only where the caller already accepts a disk wait (start-up,
 * compaction swap, rare membership saves). */
#ifndef KV_FS_H
#define KV_FS_H

/* fsyncs the directory holding path, so a file created or renamed there
 * survives a crash.  0 or -errno. */
int fs_fsync_dir_of(const char *path);

/* Creates dir and its missing parents (mode 0755), as `mkdir -p`.
 * 0 (also when it exists as a directory) or -errno (-ENOTDIR when a
 * component exists and is not a directory). */
int fs_mkdir_p(const char *dir);

#endif
