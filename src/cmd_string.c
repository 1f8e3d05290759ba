/* cmd_string.c — the Redis string family beyond GET/SET (APPEND, INCR...,
 * GETRANGE, SETRANGE, GETDEL, GETEX...) and the expiry commands (EXPIRE
 * family, TTL family, PERSIST).  Writes are read-modify-writes at the key's
 * coordinator (cmd_rmw); reads are quorum reads (cmd_read). */
#include "cmd.h"

const struct cmd_def cmd_string_table[] = {
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
