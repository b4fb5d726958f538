/* SPDX-License-Identifier: MIT */
/*
 * The options both context managers take, beside every tool's
 * (socket-arg.h): --client-interval and --verbose, and the end of their
 * --help (these options, --help, --version, how to stop the manager).
 */
#pragma once

#include <stdbool.h>

#include "manager_loop.h"

#define MANAGER_DEFAULT_INTERVAL 5000 /* ms between client checks, as Android's */

#define MANAGER_SHORT_OPTIONS "i:v"
/* clang-format off */
#define MANAGER_LONG_OPTIONS \
	{ "client-interval", required_argument, NULL, 'i' }, { "verbose", no_argument, NULL, 'v' }
/* clang-format on */

/* The end of a manager's --help, its options aligned at column 30. */
#define MANAGER_USAGE_END                                                             \
	"  -i, --client-interval MS   how often services with client callbacks are\n" \
	"                             checked for clients (default 5000)\n"           \
	"  -v, --verbose              log registrations and deaths to stderr\n"       \
	"  -h, --help                 show this help and exit\n"                      \
	"  -V, --version              show the version and exit\n"                    \
	"\n"                                                                          \
	"SIGTERM and SIGINT stop it. docs/tools.md describes the protocol.\n"

/*
 * Takes one getopt_long() result if it is a manager option (returns false for
 * others): --verbose sets manager_verbose, --client-interval sets
 * @m->tick_ms. *@exit_status is then -1 to go on, or 2 after a bad value
 * (reported, prefixed with @m->prog).
 */
bool manager_option(int opt, struct manager *m, int *exit_status);
