/* SPDX-License-Identifier: MIT */
/*
 * A poll descriptor made of a socket pair, as a session and a seccomp
 * target's Binder file give their process one: it reads as ready while the
 * driver says the process has work. The daemon keeps one end (@fd) to make
 * the other readable, and a descriptor of that other end (@drain) to empty
 * it with MSG_DONTWAIT, which no file flag the client changes can turn into
 * a blocking call.
 *
 * Owns: nothing (the caller's descriptors). May call: the system.
 */
#pragma once

#include <stdbool.h>

/*
 * Makes the pair read as ready (@readable) or not. *@set is what it reads
 * as now, kept by the caller (false at first): at most one byte is ever
 * queued. @what names the pair in a warning. Does nothing while @fd < 0.
 */
void poll_pair_signal(int fd, int drain, bool *set, bool readable, const char *what);
