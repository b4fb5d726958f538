/* SPDX-License-Identifier: MIT */
/* Options every tool shares: --socket, --context, --help, --version. */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/program_options.h"

struct tool_args {
	const char *socket;
	const char *context;
};

#define TOOL_SHORT_OPTIONS "s:c:" PROGRAM_SHORT_OPTIONS
#define TOOL_LONG_OPTIONS                                                                        \
	{ "socket", required_argument, NULL, 's' }, { "context", required_argument, NULL, 'c' }, \
		PROGRAM_LONG_OPTIONS

/*
 * Takes one getopt_long() result if it is a common option (returns false for
 * the tool's own). *exit_status is then -1 to go on, or the status to exit
 * with at once: 0 after --help or --version, 2 after a bad option (reported).
 */
bool tool_common_option(int opt, struct tool_args *a, const char *prog, const char *usage,
			int *exit_status);

/*
 * The socket a tool connects to, into @buf: @socket if given (with @context,
 * the context's socket beside it, as ubinderd names them), else the default
 * socket of @context, else NULL for the library's default ($UBINDER_SOCKET
 * or the "binder" context's default socket). Returns @buf or NULL; on a bad
 * argument prints a message and returns NULL with *bad set.
 */
const char *tool_socket_path(const char *prog, const char *socket, const char *context, char *buf,
			     size_t size, int *bad);
