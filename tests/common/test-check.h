/* SPDX-License-Identifier: MIT */
/*
 * CHECK for test code that runs in a forked child or a helper returning an
 * exit status: a failed condition is reported on stderr (file, line, the
 * condition) and the function returns 1, which the parent sees as the
 * child's exit status. Tests only.
 */
#pragma once

#include <stdio.h>

#define CHECK(cond)                                                                \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
			return 1;                                                  \
		}                                                                  \
	} while (0)
