/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
	"      --huge-pages SIZE   regions whose size is a multiple of SIZE (e.g. 2M, 64K)\n"
	"                          use shmem huge pages of SIZE, installed and reclaimed\n"
	"                          whole; auto: the size the kernel gives; off (default).\n"
	"                          Where the kernel refuses, a warning says why and\n"
	"                          regions use base pages\n"
	"      --max-threads N     Binder threads per process (default 4096)\n"
	"      --copy-workers N    most copy worker threads (default 16)\n"
	"      --copies-per-proc N  copies from one process's memory at once (default 4)\n"
	"      --copies-per-uid N  copies from the memory of one uid's processes at once,\n"
	"                          stalled ones included (default 16; 0: no limit)\n"
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
	"      --max-oneway-per-uid SIZE  bytes of oneway calls one uid has sent that\n"
	"                          their receivers have not freed yet; beyond, a oneway\n"
	"                          fails as on a full async space (default 256M; 0: no\n"
	"                          limit)\n"
	"      --max-partial-per-proc SIZE  bytes of unfinished multi-packet requests\n"
	"                          of one process (default 64M; 0: no limit)\n"
	"      --max-partial-per-uid SIZE   the same for one uid (default 256M)\n"
	"      --partial-timeout MS  a multi-packet request unfinished after MS\n"
	"                          milliseconds costs its thread connection (default 10000)\n"
	"      --freeze-policy P   who may BINDER_FREEZE a process: owner (default: root\n"
	"                          and the process's own uid) or any (as the kernel)\n"
	"      --rings on|off      thread connections may carry their packets through\n"
	"                          shared-memory rings (default on); off: sockets only\n"
	"      --wake-batch on|off the futex wake-ups owed after a batch of work go out\n"
	"                          in one io_uring submission where the kernel has\n"
	"                          futex requests (Linux 6.7; default on); off, or\n"
	"                          without them: two per system call (FUTEX_WAKE_OP)\n"
	"      --spin USEC         right after serving a ring, poll the rings up to USEC\n"
	"                          microseconds before sleeping (default 30; 0: never;\n"
	"                          never on one CPU, nor while it finds nothing)\n"
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

/*
 * A number with an optional binary suffix K, M or G. Returns -1 unless all
 * of @s is one and its value fits in 64 bits.
 */
static int parse_size(const char *s, unsigned long long *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	}
	if (shift)
		end++;
	if (*end != '\0' || v > (~0ull >> shift))
		return -1;
	*out = v << shift;
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

/* The options that are not a plain number or flag: 0, or -1 after printing why. */
static int set_socket(struct daemon_config *cfg, const char *arg)
{
	if (strlen(arg) >= sizeof(cfg->socket_path)) {
		fprintf(stderr, "ubinderd: socket path too long: %s\n", arg);
		return -1;
	}
	strcpy(cfg->socket_path, arg);
	return 0;
}

static int add_context(struct daemon_config *cfg, const char *arg)
{
	if (cfg->ncontexts == DAEMON_MAX_CONTEXTS) {
		fprintf(stderr, "ubinderd: at most %d contexts\n", DAEMON_MAX_CONTEXTS);
		return -1;
	}
	if (!arg[0] || strchr(arg, '/') || strlen(arg) >= 32) {
		fprintf(stderr, "ubinderd: bad context name: '%s'\n", arg);
		return -1;
	}
	for (size_t i = 0; i < cfg->ncontexts; i++) {
		if (strcmp(cfg->contexts[i], arg) == 0) {
			fprintf(stderr, "ubinderd: context %s given twice\n", arg);
			return -1;
		}
	}
	cfg->contexts[cfg->ncontexts++] = arg;
	return 0;
}

static int set_log_level(struct daemon_config *cfg, const char *arg)
{
	cfg->log_level = log_level_parse(arg);
	if (cfg->log_level < 0) {
		fprintf(stderr, "ubinderd: bad --log-level '%s'\n", arg);
		return -1;
	}
	return 0;
}

/* "on" or "off" into @out: 0, or -1 after naming --@option. */
static int parse_on_off(const char *option, const char *arg, bool *out)
{
	if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0) {
		fprintf(stderr, "ubinderd: bad --%s '%s' (on or off)\n", option, arg);
		return -1;
	}
	*out = strcmp(arg, "on") == 0;
	return 0;
}

static int set_rings(struct daemon_config *cfg, const char *arg)
{
	return parse_on_off("rings", arg, &cfg->rings);
}

static int set_wake_batch(struct daemon_config *cfg, const char *arg)
{
	return parse_on_off("wake-batch", arg, &cfg->wake_batch);
}

static int set_freeze_policy(struct daemon_config *cfg, const char *arg)
{
	if (strcmp(arg, "owner") != 0 && strcmp(arg, "any") != 0) {
		fprintf(stderr, "ubinderd: bad --freeze-policy '%s' (owner or any)\n", arg);
		return -1;
	}
	cfg->freeze_any_uid = strcmp(arg, "any") == 0;
	return 0;
}

/* off, auto (SIZE_MAX: the kernel's size), or a power of two above the page
 * size up to 2M. */
static int set_huge_pages(struct daemon_config *cfg, const char *arg)
{
	unsigned long long v = 0;

	if (strcmp(arg, "off") == 0) {
		cfg->huge_pages = 0;
	} else if (strcmp(arg, "auto") == 0) {
		cfg->huge_pages = SIZE_MAX;
	} else if (parse_size(arg, &v) || v <= (unsigned long long)sysconf(_SC_PAGESIZE) ||
		   v > (2ull << 20) || (v & (v - 1))) {
		fprintf(stderr,
			"ubinderd: bad --huge-pages '%s' (off, auto, or a power of two above the "
			"page size, up to 2M)\n",
			arg);
		return -1;
	} else {
		cfg->huge_pages = (size_t)v;
	}
	return 0;
}

static int set_fuse_dir(struct daemon_config *cfg, const char *arg)
{
	if (strlen(arg) >= sizeof(cfg->fuse_dir) || arg[0] != '/') {
		fprintf(stderr, "ubinderd: --fuse-dev needs an absolute path: %s\n", arg);
		return -1;
	}
	strcpy(cfg->fuse_dir, arg);
	return 0;
}

enum option_kind {
	OPTION_SIZE, /* a size_t field: a number with an optional K, M or G */
	OPTION_UINT, /* an unsigned int field: the same, up to UINT_ARG_MAX */
	OPTION_FLAG, /* a bool field set to true; takes no argument */
	OPTION_CALL, /* parsed and stored by .call */
};

#define UINT_ARG_MAX 1000000ull

/* One option of ubinderd: what it sets, its default, the values it takes. */
struct config_option {
	const char *name; /* the long option */
	int key;	  /* its short option letter, or another unique code */
	enum option_kind kind;
	size_t field;			  /* offsetof the field set (not OPTION_CALL) */
	unsigned long long def, min, max; /* default and accepted range (numbers) */
	const char *range;		  /* shown after a bad value, or NULL */
	int (*call)(struct daemon_config *cfg, const char *arg);
};

#define FIELD(name) .field = offsetof(struct daemon_config, name)
#define SIZE_OPTION(name, d, lo, hi) \
	.kind = OPTION_SIZE, FIELD(name), .def = (d), .min = (lo), .max = (hi)
#define UINT_OPTION(name, d, lo, hi) \
	.kind = OPTION_UINT, FIELD(name), .def = (d), .min = (lo), .max = (hi)

/* Every option but the standard ones; docs/man/ubinderd.8.scd lists the same. */
static const struct config_option options[] = {
	{ "socket", 's', .kind = OPTION_CALL, .call = set_socket },
	{ "context", 'c', .kind = OPTION_CALL, .call = add_context },
	{ "max-region", 'm', SIZE_OPTION(max_region, 4u << 20, 4096, 4ull << 30),
	  .range = "(4K to 4G)" },
	{ "max-lru-pages", 'L', SIZE_OPTION(max_lru_pages, 0, 0, SIZE_MAX) },
	{ "max-installed-pages", 'I', SIZE_OPTION(max_installed_pages, 0, 0, SIZE_MAX) },
	{ "lru-decay", 'Z', UINT_OPTION(lru_decay_s, 60, 0, 86400), .range = "(0 to 86400)" },
	{ "huge-pages", 'H', .kind = OPTION_CALL, .call = set_huge_pages },
	{ "max-threads", 'T', UINT_OPTION(max_threads, 4096, 1, UINT_ARG_MAX) },
	{ "copy-workers", 'W', UINT_OPTION(copy_workers, 16, 1, 256), .range = "(1 to 256)" },
	{ "copies-per-proc", 'C', UINT_OPTION(copies_per_proc, 4, 1, UINT_ARG_MAX) },
	{ "copies-per-uid", 'G', UINT_OPTION(copies_per_uid, 16, 0, UINT_ARG_MAX) },
	{ "copy-timeout", 'O', UINT_OPTION(copy_timeout_ms, 5000, 1, UINT_ARG_MAX) },
	{ "max-sessions-per-uid", 'S', UINT_OPTION(max_sessions_per_uid, 4096, 0, UINT_ARG_MAX) },
	{ "max-threads-per-uid", 'U', UINT_OPTION(max_threads_per_uid, 65536, 0, UINT_ARG_MAX) },
	{ "max-nodes-per-uid", 'N', UINT_OPTION(max_nodes_per_uid, 262144, 0, UINT_ARG_MAX) },
	{ "max-refs-per-uid", 'R', UINT_OPTION(max_refs_per_uid, 262144, 0, UINT_ARG_MAX) },
	{ "max-deaths-per-uid", 'X', UINT_OPTION(max_deaths_per_uid, 262144, 0, UINT_ARG_MAX) },
	{ "max-oneway-per-uid", 'B', SIZE_OPTION(max_oneway_per_uid, 256u << 20, 0, SIZE_MAX) },
	{ "max-partial-per-proc", 'P', SIZE_OPTION(max_partial_per_proc, 64u << 20, 0, SIZE_MAX) },
	{ "max-partial-per-uid", 'Q', SIZE_OPTION(max_partial_per_uid, 256u << 20, 0, SIZE_MAX) },
	{ "partial-timeout", 'D', UINT_OPTION(partial_timeout_ms, 10000, 1, UINT_ARG_MAX) },
	{ "freeze-policy", 'F', .kind = OPTION_CALL, .call = set_freeze_policy },
	{ "rings", 'r', .kind = OPTION_CALL, .call = set_rings },
	{ "wake-batch", 'K', .kind = OPTION_CALL, .call = set_wake_batch },
	{ "spin", 'J', UINT_OPTION(spin_us, 30, 0, 1000), .range = "(0 to 1000)" },
	{ "dumpable", 'Y', .kind = OPTION_FLAG, FIELD(dumpable) },
	{ "fuse-dev", 'E', .kind = OPTION_CALL, .call = set_fuse_dir },
	{ "log-level", 'l', .kind = OPTION_CALL, .call = set_log_level },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

/* Applies option @o with argument @arg to @cfg: 0, or -1 after printing why. */
static int option_apply(const struct config_option *o, struct daemon_config *cfg, const char *arg)
{
	void *field = (char *)cfg + o->field;
	unsigned long long v;

	switch (o->kind) {
	case OPTION_CALL:
		return o->call(cfg, arg);
	case OPTION_FLAG:
		*(bool *)field = true;
		return 0;
	case OPTION_SIZE:
	case OPTION_UINT:
		if (parse_size(arg, &v) || v < o->min || v > o->max) {
			fprintf(stderr, "ubinderd: bad --%s '%s'%s%s\n", o->name, arg,
				o->range ? " " : "", o->range ? o->range : "");
			return -1;
		}
		if (o->kind == OPTION_SIZE)
			*(size_t *)field = (size_t)v;
		else
			*(unsigned int *)field = (unsigned int)v;
		return 0;
	}
	return -1;
}

static void config_defaults(struct daemon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NOPTIONS; i++) {
		void *field = (char *)cfg + options[i].field;

		if (options[i].kind == OPTION_SIZE)
			*(size_t *)field = (size_t)options[i].def;
		else if (options[i].kind == OPTION_UINT)
			*(unsigned int *)field = (unsigned int)options[i].def;
	}
	cfg->max_inline = 65536;
	cfg->rings = true;
	cfg->wake_batch = true;
	cfg->log_level = LOG_LEVEL_NOTICE;
}

int config_parse(struct daemon_config *cfg, int argc, char **argv)
{
	struct option long_options[NOPTIONS + 3] = { PROGRAM_LONG_OPTIONS };
	int opt;

	for (size_t i = 0; i < NOPTIONS; i++)
		long_options[2 + i] = (struct option){
			options[i].name,
			options[i].kind == OPTION_FLAG ? no_argument : required_argument,
			NULL,
			options[i].key,
		};
	config_defaults(cfg);
	optind = 0; /* glibc: start afresh, also after a parse that stopped midway */
	while ((opt = getopt_long(argc, argv, "s:c:m:l:" PROGRAM_SHORT_OPTIONS, long_options,
				  NULL)) != -1) {
		size_t i = 0;

		while (i < NOPTIONS && options[i].key != opt)
			i++;
		if (i == NOPTIONS) /* 1: exit at once with success, -1: a usage error */
			return program_standard_option(opt, "ubinderd", usage,
						       " (Binder protocol 8)") == 0
				       ? 1
				       : -1;
		if (option_apply(&options[i], cfg, optarg) != 0)
			return -1;
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
