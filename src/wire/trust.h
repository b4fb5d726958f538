/* SPDX-License-Identifier: MIT */
/*
 * Whom a ubinder socket is trusted from. The directory a socket lives in
 * decides who can replace the socket, and the credentials of the listener
 * (SO_PEERCRED on a connected socket: the process that called listen())
 * say who answers. Both sides apply the same checks:
 *   the daemon: its socket directory is owned by its own euid;
 *   a client: the directory is owned by, and the listener runs as, the
 *     client's euid, root, or the uid in $UBINDER_DAEMON_UID (a daemon the
 *     client chooses to trust, such as a user's daemon reached by root);
 * and no trusted directory is writable by group or others, or a symlink.
 */
#pragma once

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * The calls the checks make on paths and descriptors: libc's
 * (ubw_trust_libc), or, for a user that interposes them (the emulation),
 * the functions underneath. Sockets are made with libc's socket(),
 * connect() and getsockopt(), which no user interposes (closed through
 * the table).
 */
struct ubw_trust_sys {
	int (*open)(const char *path, int flags, ...);
	int (*close)(int fd);
	int (*fstat)(int fd, struct stat *st);
};

extern const struct ubw_trust_sys ubw_trust_libc;

/* The uids one side trusts; unused slots hold (uid_t)-1. */
struct ubw_trust {
	uid_t uids[3];
};

/* A client's trust: its euid, root, $UBINDER_DAEMON_UID. */
void ubw_trust_client(struct ubw_trust *t);

/*
 * Opens the directory @dir without following a symlink in its last component
 * and checks that a trusted uid owns it and that neither group nor others
 * may write it. Returns the descriptor (O_CLOEXEC), or -errno: as open(2)
 * failed, or -EACCES with @why (@size bytes) naming the problem.
 */
int ubw_trust_open_dir(const struct ubw_trust_sys *sys, const char *dir, const struct ubw_trust *t,
		       char *why, size_t size);

/* 0, or -EPERM with @why naming the problem: the listener behind @sock runs as an untrusted uid. */
int ubw_trust_check_peer(int sock, const struct ubw_trust *t, char *why, size_t size);

/*
 * A client's connection to the daemon at @path (SOCK_SEQPACKET, close-on-exec,
 * blocking), after checking the directory and then the listener. Returns the
 * socket or -errno; a refusal (-EACCES, -EPERM) also prints one line
 * "ubinder: refusing PATH: WHY" on stderr.
 */
int ubw_connect_trusted(const struct ubw_trust_sys *sys, const char *path);
