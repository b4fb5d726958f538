/* SPDX-License-Identifier: MIT */
/* ubinder-run: runs a program with the /dev/binder emulation (docs/emulation.md). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/program_options.h"
#include "seccomp-launch.h"

#define LIBRARY_NAME "libubinder-preload.so"

enum {
	OPT_SECCOMP = 256
}; /* long options only */

static const char usage[] =
	"Usage: ubinder-run [OPTION]... PROGRAM [ARGUMENT]...\n"
	"Runs PROGRAM with the /dev/binder emulation of ubinder: its opens of\n"
	"/dev/binder, /dev/hwbinder, /dev/vndbinder and /dev/binderfs/NAME reach\n"
	"ubinderd instead of a kernel driver (LD_PRELOAD=" LIBRARY_NAME "), and\n"
	"access() and stat() see those paths as character devices while the\n"
	"daemon serves them.\n"
	"\n"
	"  -s, --socket-dir DIR   the daemon's sockets are DIR/CONTEXT\n"
	"                         (sets UBINDER_SOCKET_DIR; default: where ubinderd\n"
	"                         puts them by default)\n"
	"  -d, --device DEV=TARGET  map device path DEV to TARGET: a context name, an\n"
	"                         absolute socket path, or nothing (DEV is then not\n"
	"                         emulated); repeatable (adds to UBINDER_DEVICES)\n"
	"  -L, --library PATH     the preload library to use (default: the one beside\n"
	"                         this program, else the installed one)\n"
	"      --seccomp          serve PROGRAM's Binder system calls from the daemon\n"
	"                         under a seccomp filter instead (any program: static,\n"
	"                         Go, musl; the daemon of DIR/binder or the default)\n"
	"  -v, --debug            log the emulation's decisions on stderr\n"
	"                         (sets UBINDER_PRELOAD_DEBUG=1)\n"
	"  -h, --help             show this help and exit\n"
	"  -V, --version          show the version and exit\n"
	"\n"
	"Exit status: PROGRAM's, or 126 if it cannot be run, 127 if it is not found,\n"
	"2 for a usage error. Statically linked programs need --seccomp.\n";

/* The library beside our own executable (a build tree), if there is one. */
static bool beside_us(char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return false;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return false;
	*slash = '\0';
	if ((size_t)snprintf(buf, size, "%s/%s", self, LIBRARY_NAME) >= size)
		return false;
	return access(buf, R_OK) == 0;
}

/* Appends "ITEM" to a SEP-separated environment variable. */
static int env_append(const char *name, const char *item, char sep, bool front)
{
	const char *old = getenv(name);
	char *value;
	int r;

	if (!old || !*old)
		return setenv(name, item, 1);
	if (front)
		r = asprintf(&value, "%s%c%s", item, sep, old);
	else
		r = asprintf(&value, "%s%c%s", old, sep, item);
	if (r < 0)
		return -1;
	r = setenv(name, value, 1);
	free(value);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		PROGRAM_LONG_OPTIONS,
		{ "socket-dir", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "library", required_argument, NULL, 'L' },
		{ "debug", no_argument, NULL, 'v' },
		{ "seccomp", no_argument, NULL, OPT_SECCOMP },
		{ NULL, 0, NULL, 0 },
	};
	char lib[PATH_MAX];
	const char *library = getenv("UBINDER_PRELOAD_LIBRARY");
	bool seccomp = false;
	int opt, status;

	while ((opt = getopt_long(argc, argv, "+s:d:L:v" PROGRAM_SHORT_OPTIONS, options, NULL)) !=
	       -1) {
		switch (opt) {
		case 's':
			if (optarg[0] != '/') {
				fprintf(stderr,
					"ubinder-run: --socket-dir wants an absolute path\n");
				return 2;
			}
			setenv("UBINDER_SOCKET_DIR", optarg, 1);
			break;
		case 'd':
			if (optarg[0] != '/' || !strchr(optarg, '=') || strchr(optarg, ',')) {
				fprintf(stderr,
					"ubinder-run: bad --device '%s' (want /dev/PATH=TARGET)\n",
					optarg);
				return 2;
			}
			env_append("UBINDER_DEVICES", optarg, ',', false);
			break;
		case 'L':
			library = optarg;
			break;
		case 'v':
			setenv("UBINDER_PRELOAD_DEBUG", "1", 1);
			break;
		case OPT_SECCOMP:
			seccomp = true;
			break;
		default:
			status = program_standard_option(opt, "ubinder-run", usage, NULL);
			return status < 0 ? 2 : status;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "ubinder-run: no program given\nTry 'ubinder-run --help'.\n");
		return 2;
	}
	if (seccomp)
		return seccomp_launch(argv + optind);
	if (!library || !*library)
		library = beside_us(lib, sizeof(lib)) ? lib : UBINDER_PRELOAD_INSTALLED;
	if (access(library, R_OK) != 0) {
		fprintf(stderr, "ubinder-run: %s: %s\n", library, strerror(errno));
		return 126;
	}
	if (env_append("LD_PRELOAD", library, ' ', true) < 0) {
		perror("ubinder-run: LD_PRELOAD");
		return 126;
	}
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "ubinder-run: %s: %s\n", argv[optind], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
