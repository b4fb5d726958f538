/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/program_options.h"
#include "daemon/config.h"

static const char usage[] =
	"Usage: ubinderd [OPTION]...\n"
	"The Android Binder IPC driver as a userspace daemon: Binder programs talk to it\n"
	"through libubinder or the /dev/binder emulation (ubinder-run).\n"
	"\n"
	"  -s, --socket PATH       socket of the first context (default:\n"
	"                          $XDG_RUNTIME_DIR/ubinder/binder, or /run/ubinder/binder for\n"
	"                          root and /tmp/ubinder-UID/binder otherwise when\n"
	"                          XDG_RUNTIME_DIR is unset); other contexts' sockets are\n"
	"                          created beside it, named after the context\n"
	"  -c, --context NAME      serve an independent Binder context NAME (repeatable;\n"
	"                          default: binder). E.g. -c binder -c hwbinder -c vndbinder\n"
	"  -m, --max-region SIZE   largest receive region per process (default 4M, the\n"
	"                          kernel driver's cap; suffixes K, M, G)\n"
	"      --max-lru-pages N   release unused installed pages above N (default: no limit)\n"
	"      --max-installed-pages N  most installed pages (in use or unused) of all\n"
	"                          regions together; beyond it unused pages are released,\n"
	"                          then the call fails with BR_FAILED_REPLY (default: no cap)\n"
	"      --lru-decay SECONDS release unused installed pages after SECONDS without\n"
	"                          use (default 60; 0: never)\n"
	"      --max-threads N     Binder threads per process (default 4096)\n"
	"      --copy-workers N    most copy worker threads (default 16)\n"
	"      --copies-per-proc N  copies from one process's memory at once (default 4)\n"
	"      --copy-timeout MS   a copy running longer has stalled (its worker is\n"
	"                          replaced); one waiting longer fails with EFAULT\n"
	"                          (default 5000)\n"
	"      --max-sessions-per-uid N  open devices (sessions) of one uid at once\n"
	"                          (default 4096; 0: no limit)\n"
	"      --max-threads-per-uid N   thread connections of one uid at once\n"
	"                          (default 65536; 0: no limit)\n"
	"      --max-nodes-per-uid N, --max-refs-per-uid N, --max-deaths-per-uid N\n"
	"                          Binder nodes, references and death notifications\n"
	"                          of one uid at once (default 262144 each; 0: no limit)\n"
	"      --max-partial-per-proc SIZE  bytes of unfinished multi-packet requests\n"
	"                          of one process (default 64M; 0: no limit)\n"
	"      --max-partial-per-uid SIZE   the same for one uid (default 256M)\n"
	"      --partial-timeout MS  a multi-packet request unfinished after MS\n"
	"                          milliseconds costs its thread connection (default 10000)\n"
	"      --freeze-policy P   who may BINDER_FREEZE a process: owner (default: root\n"
	"                          and the process's own uid) or any (as the kernel)\n"
	"      --dumpable          stay dumpable (core dumps, debuggers of the same uid);\n"
	"                          lets processes of the daemon's uid reach its memory\n"
	"                          and every region through /proc: for debugging only\n"
	"      --fuse-dev DIR      also serve the contexts as files DIR/NAME of a FUSE\n"
	"                          mount (root), to bind-mount over /dev/binder in a\n"
	"                          container or mount namespace\n"
	"  -l, --log-level LEVEL   error, warning, notice (default), info or debug\n"
	"  -h, --help              show this help and exit\n"
	"  -V, --version           show the version and exit\n"
	"\n"
	"SIGTERM and SIGINT stop the daemon cleanly. ubinderctl inspects a running daemon.\n";

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	}
	if (*end != '\0')
		return -1;
	*out = (size_t)v;
	return 0;
}

static int parse_uint(const char *s, unsigned int *out)
{
	size_t v;

	if (parse_size(s, &v) || v > 1000000)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static void default_socket_dir(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (xdg && xdg[0] == '/')
		snprintf(buf, size, "%s/ubinder", xdg);
	else if (geteuid() == 0)
		snprintf(buf, size, "/run/ubinder");
	else
		snprintf(buf, size, "/tmp/ubinder-%u", (unsigned)geteuid());
}

int config_parse(struct daemon_config *cfg, int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "context", required_argument, NULL, 'c' },
		{ "max-region", required_argument, NULL, 'm' },
		{ "max-lru-pages", required_argument, NULL, 'L' },
		{ "max-installed-pages", required_argument, NULL, 'I' },
		{ "lru-decay", required_argument, NULL, 'Z' },
		{ "max-threads", required_argument, NULL, 'T' },
		{ "copy-workers", required_argument, NULL, 'W' },
		{ "copies-per-proc", required_argument, NULL, 'C' },
		{ "copy-timeout", required_argument, NULL, 'O' },
		{ "max-sessions-per-uid", required_argument, NULL, 'S' },
		{ "max-threads-per-uid", required_argument, NULL, 'U' },
		{ "max-nodes-per-uid", required_argument, NULL, 'N' },
		{ "max-refs-per-uid", required_argument, NULL, 'R' },
		{ "max-deaths-per-uid", required_argument, NULL, 'X' },
		{ "max-partial-per-proc", required_argument, NULL, 'P' },
		{ "max-partial-per-uid", required_argument, NULL, 'Q' },
		{ "partial-timeout", required_argument, NULL, 'D' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "freeze-policy", required_argument, NULL, 'F' },
		{ "dumpable", no_argument, NULL, 'Y' },
		{ "fuse-dev", required_argument, NULL, 'E' },
		PROGRAM_LONG_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_region = 4u << 20;
	cfg->max_threads = 4096;
	cfg->max_inline = 65536;
	cfg->copy_workers = 16;
	cfg->copies_per_proc = 4;
	cfg->copy_timeout_ms = 5000;
	cfg->max_sessions_per_uid = 4096;
	cfg->max_threads_per_uid = 65536;
	cfg->max_nodes_per_uid = cfg->max_refs_per_uid = cfg->max_deaths_per_uid = 262144;
	cfg->max_partial_per_proc = 64u << 20;
	cfg->max_partial_per_uid = 256u << 20;
	cfg->partial_timeout_ms = 10000;
	cfg->lru_decay_s = 60;
	cfg->log_level = LOG_LEVEL_NOTICE;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:c:m:l:" PROGRAM_SHORT_OPTIONS, options, NULL)) !=
	       -1) {
		size_t size;

		switch (opt) {
		case 's':
			if (strlen(optarg) >= sizeof(cfg->socket_path)) {
				fprintf(stderr, "ubinderd: socket path too long: %s\n", optarg);
				return -1;
			}
			strcpy(cfg->socket_path, optarg);
			break;
		case 'c':
			if (cfg->ncontexts == DAEMON_MAX_CONTEXTS) {
				fprintf(stderr, "ubinderd: at most %d contexts\n",
					DAEMON_MAX_CONTEXTS);
				return -1;
			}
			if (!optarg[0] || strchr(optarg, '/') || strlen(optarg) >= 32) {
				fprintf(stderr, "ubinderd: bad context name: '%s'\n", optarg);
				return -1;
			}
			for (size_t i = 0; i < cfg->ncontexts; i++) {
				if (strcmp(cfg->contexts[i], optarg) == 0) {
					fprintf(stderr, "ubinderd: context %s given twice\n",
						optarg);
					return -1;
				}
			}
			cfg->contexts[cfg->ncontexts++] = optarg;
			break;
		case 'm':
			if (parse_size(optarg, &size) || size < 4096 || size > ((size_t)4 << 30)) {
				fprintf(stderr, "ubinderd: bad --max-region '%s' (4K to 4G)\n",
					optarg);
				return -1;
			}
			cfg->max_region = size;
			break;
		case 'L':
			if (parse_size(optarg, &cfg->max_lru_pages)) {
				fprintf(stderr, "ubinderd: bad --max-lru-pages '%s'\n", optarg);
				return -1;
			}
			break;
		case 'I':
			if (parse_size(optarg, &cfg->max_installed_pages)) {
				fprintf(stderr, "ubinderd: bad --max-installed-pages '%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'Z':
			if (parse_uint(optarg, &cfg->lru_decay_s) || cfg->lru_decay_s > 86400) {
				fprintf(stderr, "ubinderd: bad --lru-decay '%s' (0 to 86400)\n",
					optarg);
				return -1;
			}
			break;
		case 'T':
			if (parse_uint(optarg, &cfg->max_threads) || cfg->max_threads == 0) {
				fprintf(stderr, "ubinderd: bad --max-threads '%s'\n", optarg);
				return -1;
			}
			break;
		case 'W':
			if (parse_uint(optarg, &cfg->copy_workers) || cfg->copy_workers == 0 ||
			    cfg->copy_workers > 256) {
				fprintf(stderr, "ubinderd: bad --copy-workers '%s' (1 to 256)\n",
					optarg);
				return -1;
			}
			break;
		case 'C':
			if (parse_uint(optarg, &cfg->copies_per_proc) ||
			    cfg->copies_per_proc == 0) {
				fprintf(stderr, "ubinderd: bad --copies-per-proc '%s'\n", optarg);
				return -1;
			}
			break;
		case 'O':
			if (parse_uint(optarg, &cfg->copy_timeout_ms) ||
			    cfg->copy_timeout_ms == 0) {
				fprintf(stderr, "ubinderd: bad --copy-timeout '%s'\n", optarg);
				return -1;
			}
			break;
		case 'S':
			if (parse_uint(optarg, &cfg->max_sessions_per_uid)) {
				fprintf(stderr, "ubinderd: bad --max-sessions-per-uid '%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'U':
			if (parse_uint(optarg, &cfg->max_threads_per_uid)) {
				fprintf(stderr, "ubinderd: bad --max-threads-per-uid '%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'N':
		case 'R':
		case 'X': {
			unsigned int *limit = opt == 'N'   ? &cfg->max_nodes_per_uid
					      : opt == 'R' ? &cfg->max_refs_per_uid
							   : &cfg->max_deaths_per_uid;

			if (parse_uint(optarg, limit)) {
				fprintf(stderr, "ubinderd: bad quota '%s'\n", optarg);
				return -1;
			}
			break;
		}
		case 'P':
		case 'Q':
			if (parse_size(optarg, opt == 'P' ? &cfg->max_partial_per_proc
							  : &cfg->max_partial_per_uid)) {
				fprintf(stderr, "ubinderd: bad --max-partial-per-%s '%s'\n",
					opt == 'P' ? "proc" : "uid", optarg);
				return -1;
			}
			break;
		case 'D':
			if (parse_uint(optarg, &cfg->partial_timeout_ms) ||
			    cfg->partial_timeout_ms == 0) {
				fprintf(stderr, "ubinderd: bad --partial-timeout '%s'\n", optarg);
				return -1;
			}
			break;
		case 'l':
			cfg->log_level = log_level_parse(optarg);
			if (cfg->log_level < 0) {
				fprintf(stderr, "ubinderd: bad --log-level '%s'\n", optarg);
				return -1;
			}
			break;
		case 'F':
			if (strcmp(optarg, "owner") != 0 && strcmp(optarg, "any") != 0) {
				fprintf(stderr,
					"ubinderd: bad --freeze-policy '%s' (owner or any)\n",
					optarg);
				return -1;
			}
			cfg->freeze_any_uid = strcmp(optarg, "any") == 0;
			break;
		case 'Y':
			cfg->dumpable = true;
			break;
		case 'E':
			if (strlen(optarg) >= sizeof(cfg->fuse_dir) || optarg[0] != '/') {
				fprintf(stderr, "ubinderd: --fuse-dev needs an absolute path: %s\n",
					optarg);
				return -1;
			}
			strcpy(cfg->fuse_dir, optarg);
			break;
		default:
			/* 1: exit at once with success, -1: a usage error */
			return program_standard_option(opt, "ubinderd", usage,
						       " (Binder protocol 8)") == 0
				       ? 1
				       : -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ubinderd: unexpected argument '%s'\nTry 'ubinderd --help'.\n",
			argv[optind]);
		return -1;
	}
	if (cfg->ncontexts == 0)
		cfg->contexts[cfg->ncontexts++] = "binder";
	if (cfg->socket_path[0]) {
		char copy[sizeof(cfg->socket_path)];

		strcpy(copy, cfg->socket_path);
		snprintf(cfg->socket_dir, sizeof(cfg->socket_dir), "%s", dirname(copy));
	} else {
		default_socket_dir(cfg->socket_dir, sizeof(cfg->socket_dir));
	}
	return 0;
}

void config_socket_path(const struct daemon_config *cfg, size_t index, char *buf, size_t size)
{
	if (index == 0 && cfg->socket_path[0])
		snprintf(buf, size, "%s", cfg->socket_path);
	else
		snprintf(buf, size, "%s/%s", cfg->socket_dir, cfg->contexts[index]);
}
