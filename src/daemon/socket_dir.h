/* SPDX-License-Identifier: MIT */
/*
 * The daemon's socket directory and listening sockets, made so that no other
 * uid can put its own socket where clients look for the daemon's: the
 * directory is the daemon's own and writable by nobody else (wire/trust.h),
 * and sockets are bound in that very directory, never through a symlink.
 */
#pragma once

/*
 * Creates @dir if it is missing (0700; 0755 when the daemon is root), then
 * opens and checks it. Returns the directory's descriptor, or -1 after one
 * line on stderr naming the path and the problem.
 */
int socket_dir_open(const char *dir);

/*
 * A listening, non-blocking SOCK_SEQPACKET socket at @path, which names an
 * entry of the directory @dirfd (from socket_dir_open). A stale socket is
 * replaced (atomically); one a live daemon answers on is not, nor anything
 * that is not a socket. The socket is made 0666, like /dev/binder: the
 * directory decides who may connect. It appears at @path only once it
 * listens (bound under a temporary name, then renamed), so a client that
 * waits for the path to exist is never refused. Returns the
 * socket, or -1 after one line on stderr.
 */
int socket_listen_in(int dirfd, const char *path);
