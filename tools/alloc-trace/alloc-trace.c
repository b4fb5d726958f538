/* SPDX-License-Identifier: MIT */
/*
 * ubinder-alloc-trace: replays an allocator trace read from stdin and prints
 * one result line per command. The line interface is fixed: other tests and
 * benchmarks depend on it (see usage() and docs/allocator.md).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc/range_alloc.h"
#include "alloc/u64_map.h"
#include "common/program_options.h"
#include "region/page.h"

#define MAX_TOKENS 8

static const char usage[] =
	"Usage: ubinder-alloc-trace [--page-size BYTES] < TRACE\n"
	"\n"
	"Replays a trace against ubinder's range allocator and prints one line per\n"
	"command (the stats dump excepted). Commands, one per line, words separated\n"
	"by blanks; sizes and ids are decimal:\n"
	"  region <bytes>                 first line: the region size, a whole number\n"
	"                                 of pages -> ok\n"
	"  alloc <id> <data> <offsets> <extra> sync|async [<pid>]\n"
	"                                 reserve and deliver a buffer (pid 0 if left\n"
	"                                 out) -> ok <id> <offset>[ spam] | err <id> "
	"<ERRNAME>\n"
	"  reserve <id> <data> <offsets> <extra> sync|async [<pid>]\n"
	"                                 the same, but the buffer is only reserved\n"
	"  deliver <id>                   reserved -> delivered: ok | err <id> <ERRNAME>\n"
	"  free <id>                      user free (delivered buffers only)\n"
	"                                 -> ok | err <id> <ERRNAME>\n"
	"  release <id>                   daemon-side free of a reserved or delivered\n"
	"                                 buffer -> ok | err <id> <ERRNAME>\n"
	"  shrink <n>|all                 reclaim up to n lru pages, oldest first\n"
	"                                 -> shrunk <count>\n"
	"  pages                          -> pages <active> <lru> <free>\n"
	"  pagemap                        -> pagemap <one character a page: A active,\n"
	"                                 L lru, . free>\n"
	"  stats                          the stats dump (buffer lines in address order,\n"
	"                                 then pages, pages high watermark, buffers,\n"
	"                                 free async space, lru), ending with 'end'\n"
	"\n"
	"ERRNAME is the errno name: EINVAL (size arithmetic overflow only), ENOSPC (no\n"
	"free extent large enough, or oneway space exhausted), EPERM (wrong buffer\n"
	"state), ENOENT (unknown id), EEXIST (id already live), ENOMEM. Pages asked\n"
	"for are always installed in full; releases always succeed. A malformed or\n"
	"misplaced line (blank lines included, and any command before 'region' or a\n"
	"second 'region') prints 'err parse <line number>' and the replay goes on.\n"
	"\n"
	"Options:\n"
	"  --page-size BYTES  page size to model (a power of two, 4096 to 1048576);\n"
	"                     default: the machine's\n"
	"  -h, --help         show this help and exit\n"
	"  -V, --version      show the version and exit\n";

struct trace_buffer {
	char *id; /* as written in the trace */
	uint64_t key;
	struct range_buffer *buf;
};

struct trace {
	bool started;
	struct page_geometry geo;
	struct page_lru lru;
	struct range_alloc alloc;
	struct u64_map ids; /* id -> trace_buffer, live buffers only */
	unsigned long line;
};

static const char *errname(int err)
{
	switch (err) {
	case EINVAL:
		return "EINVAL";
	case ENOSPC:
		return "ENOSPC";
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case EEXIST:
		return "EEXIST";
	case ENOMEM:
		return "ENOMEM";
	default:
		return "EIO";
	}
}

/* Strict unsigned decimal: digits only, no sign, no overflow. */
static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

static void parse_error(struct trace *t)
{
	printf("err parse %lu\n", t->line);
}

static void forget(struct trace *t, struct trace_buffer *tb)
{
	u64_map_remove(&t->ids, tb->key);
	free(tb->id);
	free(tb);
}

static void cmd_region(struct trace *t, char **tok, int n)
{
	struct range_alloc_backend backend = { .release = range_alloc_release_nothing };
	uint64_t bytes;

	if (t->started || n != 2 || !parse_u64(tok[1], &bytes) ||
	    range_alloc_init(&t->alloc, bytes, t->geo, &t->lru, &backend) != 0) {
		parse_error(t);
		return;
	}
	t->started = true;
	puts("ok");
}

static void cmd_reserve(struct trace *t, char **tok, int n, bool deliver)
{
	uint64_t key, sizes[3], pid = 0;
	struct range_reservation res;
	struct trace_buffer *tb;
	bool async;
	int r;

	if ((n != 6 && n != 7) || !parse_u64(tok[1], &key) || !parse_u64(tok[2], &sizes[0]) ||
	    !parse_u64(tok[3], &sizes[1]) || !parse_u64(tok[4], &sizes[2]) ||
	    (strcmp(tok[5], "sync") && strcmp(tok[5], "async")) ||
	    (n == 7 && (!parse_u64(tok[6], &pid) || pid > INT32_MAX))) {
		parse_error(t);
		return;
	}
	async = !strcmp(tok[5], "async");
	if (u64_map_find(&t->ids, key)) {
		printf("err %s EEXIST\n", tok[1]);
		return;
	}
	tb = calloc(1, sizeof(*tb));
	if (!tb || !(tb->id = strdup(tok[1])) || u64_map_reserve(&t->ids, 1)) {
		if (tb)
			free(tb->id);
		free(tb);
		printf("err %s ENOMEM\n", tok[1]);
		return;
	}
	r = range_alloc_reserve(&t->alloc, sizes[0], sizes[1], sizes[2], async, (int32_t)pid, &res);
	if (r) {
		free(tb->id);
		free(tb);
		printf("err %s %s\n", tok[1], errname(-r));
		return;
	}
	range_alloc_installed(&t->alloc, res.install, res.install.count);
	if (deliver)
		range_alloc_deliver(&t->alloc, res.buffer);
	tb->key = key;
	tb->buf = res.buffer;
	res.buffer->owner = tb;
	u64_map_insert(&t->ids, key, tb);
	printf("ok %s %zu%s\n", tok[1], res.offset, res.spam_suspect ? " spam" : "");
}

/* deliver, free, release: one id argument. */
static void cmd_on_buffer(struct trace *t, char **tok, int n)
{
	struct trace_buffer *tb;
	struct range_buffer *b;
	uint64_t key;
	int r = 0;

	if (n != 2 || !parse_u64(tok[1], &key)) {
		parse_error(t);
		return;
	}
	tb = u64_map_find(&t->ids, key);
	if (!tb) {
		printf("err %s ENOENT\n", tok[1]);
		return;
	}
	if (!strcmp(tok[0], "deliver")) {
		r = range_alloc_deliver(&t->alloc, tb->buf);
	} else if (!strcmp(tok[0], "free")) {
		r = range_alloc_prepare_user_free(&t->alloc, tb->buf->offset, &b);
		if (!r) {
			range_alloc_release(&t->alloc, b);
			forget(t, tb);
		}
	} else {
		range_alloc_release(&t->alloc, tb->buf);
		forget(t, tb);
	}
	if (r)
		printf("err %s %s\n", tok[1], errname(-r));
	else
		puts("ok");
}

static void cmd_shrink(struct trace *t, char **tok, int n)
{
	uint64_t max = SIZE_MAX;

	if (n != 2 || (strcmp(tok[1], "all") && !parse_u64(tok[1], &max))) {
		parse_error(t);
		return;
	}
	printf("shrunk %zu\n", page_lru_shrink(&t->lru, (size_t)max));
}

static void cmd_pages(struct trace *t, int n)
{
	struct range_alloc_stats s;

	if (n != 1) {
		parse_error(t);
		return;
	}
	range_alloc_get_stats(&t->alloc, &s);
	printf("pages %zu %zu %zu\n", s.pages_active, s.pages_lru, s.pages_free);
}

static void cmd_pagemap(struct trace *t, int n)
{
	static const char letters[] = { '.', 'L', 'A' };

	if (n != 1) {
		parse_error(t);
		return;
	}
	fputs("pagemap ", stdout);
	for (size_t p = 0; p < t->alloc.pages; p++)
		putchar(letters[range_alloc_page_state(&t->alloc, p)]);
	putchar('\n');
}

static void cmd_stats(struct trace *t, int n)
{
	struct range_alloc_stats s;

	if (n != 1) {
		parse_error(t);
		return;
	}
	for (struct range_buffer *b = range_alloc_first_buffer(&t->alloc); b;
	     b = range_alloc_next_buffer(&t->alloc, b)) {
		const struct trace_buffer *tb = b->owner;

		printf("buffer %s: %zu size %zu:%zu:%zu %s%s pid %" PRId32 "\n", tb->id, b->offset,
		       b->data_size, b->offsets_size, b->extra_size,
		       b->state == RANGE_BUFFER_RESERVED ? "active" : "delivered",
		       b->async ? " async" : "", b->pid);
	}
	range_alloc_get_stats(&t->alloc, &s);
	printf("pages: %zu:%zu:%zu\n", s.pages_active, s.pages_lru, s.pages_free);
	printf("pages high watermark: %zu\n", s.pages_high);
	printf("buffers: %zu\n", s.buffers);
	printf("free async space: %zu\n", s.free_async_space);
	printf("lru: %zu pages, %" PRIu64 " released\n", t->lru.pages, t->lru.released);
	puts("end");
}

static void run_line(struct trace *t, char *line)
{
	char *tok[MAX_TOKENS + 1], *save = NULL;
	int n = 0;

	t->line++;
	for (char *w = strtok_r(line, " \t\r\v\f", &save); w && n <= MAX_TOKENS;
	     w = strtok_r(NULL, " \t\r\v\f", &save))
		tok[n++] = w;
	if (n == 0 || n > MAX_TOKENS || (!t->started && strcmp(tok[0], "region"))) {
		parse_error(t);
		return;
	}
	if (!strcmp(tok[0], "region"))
		cmd_region(t, tok, n);
	else if (!strcmp(tok[0], "alloc"))
		cmd_reserve(t, tok, n, true);
	else if (!strcmp(tok[0], "reserve"))
		cmd_reserve(t, tok, n, false);
	else if (!strcmp(tok[0], "deliver") || !strcmp(tok[0], "free") ||
		 !strcmp(tok[0], "release"))
		cmd_on_buffer(t, tok, n);
	else if (!strcmp(tok[0], "shrink"))
		cmd_shrink(t, tok, n);
	else if (!strcmp(tok[0], "pages"))
		cmd_pages(t, n);
	else if (!strcmp(tok[0], "pagemap"))
		cmd_pagemap(t, n);
	else if (!strcmp(tok[0], "stats"))
		cmd_stats(t, n);
	else
		parse_error(t);
}

/*
 * Reads stdin with read(2), runs every complete line, and flushes stdout
 * before it blocks for more input: fast on files and pipes, and still
 * answers line by line to a driver that waits for each answer.
 */
static int replay(struct trace *t)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -1;
	for (;;) {
		char *start = buf, *nl;
		ssize_t got;

		if (cap - len < 2) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger) {
				free(buf);
				return -1;
			}
			buf = bigger;
			cap *= 2;
		}
		fflush(stdout);
		got = read(STDIN_FILENO, buf + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (len) { /* a last line without its newline */
				buf[len] = '\0';
				run_line(t, buf);
			}
			free(buf);
			return got < 0 ? -1 : 0;
		}
		len += (size_t)got;
		while ((nl = memchr(start, '\n', len - (size_t)(start - buf)))) {
			*nl = '\0';
			run_line(t, start);
			start = nl + 1;
		}
		len -= (size_t)(start - buf);
		memmove(buf, start, len);
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		PROGRAM_LONG_OPTIONS,
		{ "page-size", required_argument, NULL, 'p' },
		{ 0 },
	};
	struct trace t = { .geo = { 0 } };
	uint64_t page_size = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, PROGRAM_SHORT_OPTIONS, options, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!parse_u64(optarg, &page_size) || page_size < 4096 ||
			    page_size > (1u << PAGE_SHIFT_MAX) || (page_size & (page_size - 1))) {
				fprintf(stderr, "ubinder-alloc-trace: bad page size '%s'\n",
					optarg);
				return 2;
			}
			break;
		default:
			r = program_standard_option(c, "ubinder-alloc-trace", usage, NULL);
			return r < 0 ? 2 : r;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ubinder-alloc-trace: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	t.geo = page_geometry_of_machine();
	if (page_size)
		t.geo.shift = (unsigned int)__builtin_ctzll(page_size);
	page_lru_init(&t.lru);
	u64_map_init(&t.ids);
	r = replay(&t);
	/* Drop what is still live, as at process death. */
	if (t.ids.slots)
		for (size_t i = 0; i <= t.ids.mask; i++)
			if (t.ids.slots[i].value) {
				struct trace_buffer *tb = t.ids.slots[i].value;

				free(tb->id);
				free(tb);
			}
	u64_map_deinit(&t.ids);
	if (t.started)
		range_alloc_deinit(&t.alloc);
	page_lru_deinit(&t.lru);
	if (fflush(stdout) != 0 || r != 0) {
		perror("ubinder-alloc-trace");
		return 1;
	}
	return 0;
}
