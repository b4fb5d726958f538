/* SPDX-License-Identifier: MIT */
/*
 * The options every ubinder program answers alike: --help, --version, and
 * the hint after a bad option. Used by ubinderd, ubinder-run and the tools;
 * depends on libc only.
 */
#pragma once

#include <getopt.h>

#define PROGRAM_SHORT_OPTIONS "hV"
/* Entries for a program's struct option table. */
/* clang-format off */
#define PROGRAM_LONG_OPTIONS \
	{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }
/* clang-format on */

/*
 * Answers one getopt_long() result if it is a standard option: 'h' prints
 * @usage on stdout, 'V' prints "@prog VERSION@version_note" on stdout
 * (@version_note may be NULL), '?' (getopt has already reported the bad
 * option) prints a hint to --help on stderr.
 *
 * Returns the status to exit with at once (0 after --help or --version, 2
 * after a bad option), or -1 if @opt is one of the program's own options.
 */
int program_standard_option(int opt, const char *prog, const char *usage, const char *version_note);
