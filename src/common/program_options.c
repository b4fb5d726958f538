/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "common/program_options.h"
#include "ubinder-config.h"

int program_standard_option(int opt, const char *prog, const char *usage, const char *version_note)
{
	switch (opt) {
	case 'h':
		fputs(usage, stdout);
		return 0;
	case 'V':
		printf("%s %s%s\n", prog, UBINDER_VERSION, version_note ? version_note : "");
		return 0;
	case '?':
		fprintf(stderr, "Try '%s --help' for more information.\n", prog);
		return 2;
	default:
		return -1;
	}
}
