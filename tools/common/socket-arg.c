/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "socket-arg.h"
#include "ubinder-config.h"
#include "ubinder/ubinder.h"

bool tool_common_option(int opt, struct tool_args *a, const char *prog, const char *usage,
			int *exit_status)
{
	*exit_status = -1;
	switch (opt) {
	case 's':
		a->socket = optarg;
		return true;
	case 'c':
		a->context = optarg;
		return true;
	case 'h':
		fputs(usage, stdout);
		*exit_status = 0;
		return true;
	case 'V':
		printf("%s %s\n", prog, UBINDER_VERSION);
		*exit_status = 0;
		return true;
	case '?':
		fprintf(stderr, "Try '%s --help'.\n", prog);
		*exit_status = 2;
		return true;
	default:
		return false;
	}
}

const char *tool_socket_path(const char *prog, const char *socket, const char *context, char *buf,
			     size_t size, int *bad)
{
	bool too_long;

	*bad = 0;
	if (context && (!context[0] || strchr(context, '/'))) {
		fprintf(stderr, "%s: bad context name '%s'\n", prog, context);
		*bad = 1;
		return NULL;
	}
	if (socket && context) {
		const char *slash = strrchr(socket, '/');
		int dir = slash ? (int)(slash - socket) : 0;

		too_long = snprintf(buf, size, "%.*s%s%s", dir, socket, slash ? "/" : "",
				    context) >= (int)size;
	} else if (socket) {
		too_long = snprintf(buf, size, "%s", socket) >= (int)size;
	} else if (context) {
		too_long = ubinder_default_socket(context, buf, size) != 0;
	} else {
		return NULL;
	}
	if (too_long) {
		fprintf(stderr, "%s: socket path too long\n", prog);
		*bad = 1;
		return NULL;
	}
	return buf;
}
