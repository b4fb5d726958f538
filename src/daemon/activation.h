/* SPDX-License-Identifier: MIT */
/*
 * Listening sockets passed by a service manager at start (socket
 * activation: systemd's LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, the
 * descriptors from 3 on), instead of sockets the daemon creates itself.
 */
#pragma once

#include <stddef.h>

/*
 * Claims the passed sockets for @ncontexts contexts named @contexts: @fds[i]
 * gets the socket named like context i, or the only one when one socket is
 * passed for one context. Each must be a listening AF_UNIX SOCK_SEQPACKET
 * socket; it is made non-blocking and close-on-exec. The LISTEN_* variables
 * are removed from the environment. Returns 0 when nothing was passed (@fds
 * untouched), 1 when every context has its socket, or -1 after one line on
 * stderr (a context without a socket, a socket no context claims, a socket
 * of the wrong kind).
 */
int activation_claim(const char *const *contexts, size_t ncontexts, int *fds);
