/* SPDX-License-Identifier: MIT */
/*
 * ubinderd's command line (config_parse): the documented defaults, every
 * option with a good value (suffixes, bounds), the socket directory derived
 * from --socket, and bad values, each refused with a message naming the
 * option.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/config.h"
#include "test-util.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])) - 1)

/* config_parse with what it writes to @fd in @out (up to @size bytes,
 * NUL-terminated). */
static int parse_capturing(struct daemon_config *cfg, int argc, char **argv, int fd, char *out,
			   size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(fd), ret;
	size_t n;

	assert_non_null(tmp);
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(tmp), fd);
	ret = config_parse(cfg, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, fd);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, size - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return ret;
}

/* config_parse with stderr in @err. */
static int parse_quiet(struct daemon_config *cfg, int argc, char **argv, char *err, size_t size)
{
	return parse_capturing(cfg, argc, argv, STDERR_FILENO, err, size);
}

/* A number field of struct daemon_config, its option and a value to test. */
struct field {
	size_t offset, size;
	unsigned long long def; /* the documented default */
	const char *option, *arg;
	unsigned long long value; /* what @arg sets */
};

#define F(name, d, opt, a, v)                                                                    \
	{                                                                                        \
		offsetof(struct daemon_config, name), sizeof(((struct daemon_config *)0)->name), \
			(d), (opt), (a), (v)                                                     \
	}

static const struct field fields[] = {
	F(max_region, 4u << 20, "-m", "1M", 1u << 20),
	F(max_lru_pages, 0, "--max-lru-pages", "0x10", 16),
	F(max_installed_pages, 0, "--max-installed-pages", "2k", 2048),
	F(lru_decay_s, 60, "--lru-decay", "0", 0),
	F(max_threads, 4096, "--max-threads", "1000000", 1000000),
	F(copy_workers, 16, "--copy-workers", "256", 256),
	F(copies_per_proc, 4, "--copies-per-proc", "1", 1),
	F(copy_timeout_ms, 5000, "--copy-timeout", "7", 7),
	F(max_sessions_per_uid, 4096, "--max-sessions-per-uid", "0", 0),
	F(max_threads_per_uid, 65536, "--max-threads-per-uid", "3", 3),
	F(max_nodes_per_uid, 262144, "--max-nodes-per-uid", "5", 5),
	F(max_refs_per_uid, 262144, "--max-refs-per-uid", "6", 6),
	F(max_deaths_per_uid, 262144, "--max-deaths-per-uid", "8", 8),
	F(max_partial_per_proc, 64u << 20, "--max-partial-per-proc", "1G", 1u << 30),
	F(max_partial_per_uid, 256u << 20, "--max-partial-per-uid", "0", 0),
	F(partial_timeout_ms, 10000, "--partial-timeout", "9", 9),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static unsigned long long field_get(const struct daemon_config *cfg, const struct field *f)
{
	const char *p = (const char *)cfg + f->offset;

	return f->size == sizeof(size_t) ? *(const size_t *)p : *(const unsigned int *)p;
}

/* Every number field of @cfg holds its default (@set false) or its test value. */
static void check_fields(const struct daemon_config *cfg, bool set)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		unsigned long long want = set ? fields[i].value : fields[i].def;

		if (field_get(cfg, &fields[i]) != want)
			fail_msg("%s: %llu, want %llu", fields[i].option,
				 field_get(cfg, &fields[i]), want);
	}
}

static void test_defaults(void **state)
{
	char *argv[] = { "ubinderd", NULL };
	struct daemon_config cfg;
	char path[128];

	(void)state;
	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
	assert_int_equal(config_parse(&cfg, ARGC(argv), argv), 0);
	check_fields(&cfg, false);
	assert_int_equal(cfg.max_inline, 65536);
	assert_int_equal(cfg.log_level, LOG_LEVEL_NOTICE);
	assert_false(cfg.freeze_any_uid);
	assert_false(cfg.dumpable);
	assert_true(cfg.rings);
	assert_true(cfg.wake_batch);
	assert_int_equal(cfg.ncontexts, 1);
	assert_string_equal(cfg.contexts[0], "binder");
	assert_string_equal(cfg.socket_path, "");
	assert_string_equal(cfg.socket_dir, "/run/user/4242/ubinder");
	config_socket_path(&cfg, 0, path, sizeof(path));
	assert_string_equal(path, "/run/user/4242/ubinder/binder");
}

static void test_every_option(void **state)
{
	char *argv[2 * NFIELDS + 20] = { "ubinderd",
					 "-s",
					 "/tmp/somewhere/first",
					 "-c",
					 "binder",
					 "--context",
					 "hwbinder",
					 "--freeze-policy",
					 "any",
					 "--dumpable",
					 "-l",
					 "debug",
					 "--rings",
					 "off",
					 "--wake-batch",
					 "off" };
	int argc = 16;
	struct daemon_config cfg;
	char path[128];

	(void)state;
	for (size_t i = 0; i < NFIELDS; i++) {
		argv[argc++] = (char *)fields[i].option;
		argv[argc++] = (char *)fields[i].arg;
	}
	assert_int_equal(config_parse(&cfg, argc, argv), 0);
	check_fields(&cfg, true);
	assert_string_equal(cfg.socket_path, "/tmp/somewhere/first");
	assert_string_equal(cfg.socket_dir, "/tmp/somewhere");
	assert_int_equal(cfg.ncontexts, 2);
	config_socket_path(&cfg, 0, path, sizeof(path));
	assert_string_equal(path, "/tmp/somewhere/first");
	config_socket_path(&cfg, 1, path, sizeof(path));
	assert_string_equal(path, "/tmp/somewhere/hwbinder");
	assert_true(cfg.freeze_any_uid);
	assert_true(cfg.dumpable);
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	assert_false(cfg.rings);
	assert_false(cfg.wake_batch); /* its own option: not --copy-workers' short code */

	/* A second parse starts from the defaults again. */
	char *again[] = { "ubinderd", "--freeze-policy", "owner", NULL };

	assert_int_equal(config_parse(&cfg, ARGC(again), again), 0);
	check_fields(&cfg, false);
	assert_false(cfg.freeze_any_uid);
	assert_false(cfg.dumpable);
	assert_int_equal(cfg.ncontexts, 1);
}

static void test_help_and_version(void **state)
{
	char *help[] = { "ubinderd", "--help", NULL }, *version[] = { "ubinderd", "-V", NULL };
	static char out[16384];
	struct daemon_config cfg;

	(void)state;
	/* On stdout (not the TAP stream's business: captured here). */
	assert_int_equal(parse_capturing(&cfg, ARGC(help), help, STDOUT_FILENO, out, sizeof(out)),
			 1);
	assert_non_null(strstr(out, "Usage: ubinderd"));
	assert_non_null(strstr(out, "--rings on|off"));
	assert_non_null(strstr(out, "--wake-batch on|off"));
	assert_non_null(strstr(out, "-h, --help"));
	assert_int_equal(
		parse_capturing(&cfg, ARGC(version), version, STDOUT_FILENO, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "ubinderd"));
}

static void test_bad(void **state)
{
	static const char long_path[] = "/tmp/"
					"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
					"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	/* argv after the program name, and what stderr must say */
	static const struct {
		const char *args[4];
		const char *says;
	} bad[] = {
		{ { "--max-region", "12" }, "bad --max-region '12' (4K to 4G)" },
		{ { "--max-region", "4097M" }, "bad --max-region '4097M' (4K to 4G)" },
		{ { "-m", "lots" }, "bad --max-region 'lots'" },
		{ { "--max-region", "4KB" }, "bad --max-region '4KB'" },
		{ { "--max-region", "" }, "bad --max-region ''" },
		{ { "--max-lru-pages", "-1" }, "bad --max-lru-pages '-1'" },
		{ { "--max-installed-pages", "99999999999999G" }, "bad --max-installed-pages" },
		{ { "--lru-decay", "86401" }, "bad --lru-decay '86401' (0 to 86400)" },
		{ { "--max-threads", "0" }, "bad --max-threads '0'" },
		{ { "--max-threads", "1000001" }, "bad --max-threads '1000001'" },
		{ { "--copy-workers", "0" }, "bad --copy-workers '0' (1 to 256)" },
		{ { "--copy-workers", "257" }, "bad --copy-workers '257' (1 to 256)" },
		{ { "--copies-per-proc", "0" }, "bad --copies-per-proc '0'" },
		{ { "--copy-timeout", "0" }, "bad --copy-timeout '0'" },
		{ { "--max-sessions-per-uid", "x" }, "bad --max-sessions-per-uid 'x'" },
		{ { "--max-threads-per-uid", "2M" }, "bad --max-threads-per-uid '2M'" },
		{ { "--max-nodes-per-uid", "1e3" }, "bad --max-nodes-per-uid '1e3'" },
		{ { "--max-refs-per-uid", "y" }, "bad --max-refs-per-uid 'y'" },
		{ { "--max-deaths-per-uid", "z" }, "bad --max-deaths-per-uid 'z'" },
		{ { "--max-partial-per-proc", "1T" }, "bad --max-partial-per-proc '1T'" },
		{ { "--max-partial-per-uid", "q" }, "bad --max-partial-per-uid 'q'" },
		{ { "--partial-timeout", "0" }, "bad --partial-timeout '0'" },
		{ { "--freeze-policy", "all" }, "bad --freeze-policy 'all' (owner or any)" },
		{ { "--rings", "yes" }, "bad --rings 'yes' (on or off)" },
		{ { "--wake-batch", "maybe" }, "bad --wake-batch 'maybe' (on or off)" },
		{ { "-l", "chatty" }, "bad --log-level 'chatty'" },
		{ { "--context", "a/b" }, "bad context name: 'a/b'" },
		{ { "--context", "" }, "bad context name: ''" },
		{ { "-c", "0123456789012345678901234567890123" }, "bad context name" },
		{ { "-c", "binder", "-c", "binder" }, "context binder given twice" },
		{ { "--socket", long_path }, "socket path too long" },
		{ { "--bogus" }, "ubinderd --help" },
		{ { "--max-region" }, "requires an argument" },
		{ { "extra-argument" }, "unexpected argument 'extra-argument'" },
		{ { "--dumpable", "--log-level", "info", "more" }, "unexpected argument 'more'" },
	};
	struct daemon_config cfg;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[6] = { "ubinderd" };
		int argc = 1;

		for (size_t j = 0; j < 4 && bad[i].args[j]; j++)
			argv[argc++] = (char *)bad[i].args[j];
		if (parse_quiet(&cfg, argc, argv, err, sizeof(err)) != -1 ||
		    !strstr(err, bad[i].says))
			fail_msg("%s: stderr '%s', want '%s'", bad[i].args[0], err, bad[i].says);
	}

	/* One context more than the most is refused. */
	char *many[2 * DAEMON_MAX_CONTEXTS + 4] = { "ubinderd" }, names[DAEMON_MAX_CONTEXTS + 1][8];
	int argc = 1;

	for (int i = 0; i <= DAEMON_MAX_CONTEXTS; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		many[argc++] = "-c";
		many[argc++] = names[i];
	}
	assert_int_equal(parse_quiet(&cfg, argc, many, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most 8 contexts"));
	assert_int_equal(parse_quiet(&cfg, argc - 2, many, err, sizeof(err)), 0);
	assert_int_equal(cfg.ncontexts, DAEMON_MAX_CONTEXTS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_option),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
