/* cmd_keyspace.c — commands over the key space of the whole cluster (KEYS,
 * SCAN, RANDOMKEY, ...), key-moving commands (RENAME, COPY ...) and
 * MULTI/EXEC. */
#include "cmd.h"

const struct cmd_def cmd_keyspace_table[] = {
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
