/* SPDX-License-Identifier: MIT */
#include "manager_options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

bool manager_option(int opt, struct manager *m, int *exit_status)
{
	char *end;
	long ms;

	*exit_status = -1;
	switch (opt) {
	case 'v':
		manager_verbose = true;
		return true;
	case 'i':
		errno = 0;
		ms = strtol(optarg, &end, 10);
		if (errno || end == optarg || *end || ms < 10 || ms > 3600000) {
			fprintf(stderr, "%s: bad --client-interval '%s' (10 to 3600000 ms)\n",
				m->prog, optarg);
			*exit_status = 2;
		} else {
			m->tick_ms = ms;
		}
		return true;
	default:
		return false;
	}
}
