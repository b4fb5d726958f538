/* SPDX-License-Identifier: MIT */
/*
 * ubinder-bench-alloc: ubinder's range allocator against the exact best-fit
 * baseline (red-black trees, baseline.h), in the same process and run.
 *
 * Workloads: "binder" (90% of sizes 64-768 B, 9% 1-16 KiB, 1% 64-256 KiB) and
 * "small" (64-768 B only); 20% of buffers async in both; sizes uniform within
 * each class. Regions 128 KiB, 4 MiB, 64 MiB, 1 GiB by default.
 *
 * Figures:
 *  - steady churn at about 60% occupancy: batches of 64 frees of random live
 *    buffers, then 64 allocations, each batch timed with CLOCK_MONOTONIC;
 *    the median ns per alloc and per free over all batches. The two
 *    allocators run alternately, round by round, to share the noise.
 *    Our alloc is reserve + report install + deliver; our free is the user
 *    free (lookup by offset) + release. The baseline does the same work:
 *    best-fit search, trees, lookup by offset, page states and LRU.
 *  - fragmentation: from an empty region, random alloc 55% / free 45% until
 *    the first allocation fails; live bytes / region size at that moment,
 *    mean over N seeds (default 20). Requests larger than the whole region
 *    are redrawn: they fail whatever the fragmentation.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc/range_alloc.h"
#include "baseline.h"
#include "region/page.h"

#define BATCH 64

struct rng {
	uint64_t s;
};

static uint64_t next_rand(struct rng *r)
{
	uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static size_t uniform(struct rng *r, size_t lo, size_t hi)
{
	return lo + (size_t)(next_rand(r) % (hi - lo + 1));
}

enum workload {
	BINDER,
	SMALL
};

static size_t draw_size(struct rng *r, enum workload w)
{
	unsigned int c = (unsigned int)(next_rand(r) % 100);

	if (w == SMALL || c < 90)
		return uniform(r, 64, 768);
	if (c < 99)
		return uniform(r, 1024, 16 * 1024);
	return uniform(r, 64 * 1024, 256 * 1024);
}

/* One allocator under test, behind a common face. */
struct subject {
	const char *name;
	void *(*create)(size_t region, struct page_geometry geo);
	void (*destroy)(void *self);
	int (*alloc)(void *self, size_t size, bool async, int32_t pid, size_t *offset);
	void (*release)(void *self, size_t offset);
};

struct ours {
	struct page_lru lru;
	struct range_alloc a;
};

static void *ours_create(size_t region, struct page_geometry geo)
{
	struct ours *o = calloc(1, sizeof(*o));
	struct range_alloc_backend be = { .release = range_alloc_release_nothing };

	if (!o)
		return NULL;
	page_lru_init(&o->lru);
	if (range_alloc_init(&o->a, region, geo, &o->lru, &be)) {
		free(o);
		return NULL;
	}
	return o;
}

static void ours_destroy(void *self)
{
	struct ours *o = self;

	range_alloc_deinit(&o->a);
	page_lru_deinit(&o->lru);
	free(o);
}

static int ours_alloc(void *self, size_t size, bool async, int32_t pid, size_t *offset)
{
	struct ours *o = self;
	struct range_reservation res;
	int r = range_alloc_reserve(&o->a, size, 0, 0, async, pid, &res);

	if (r)
		return r;
	range_alloc_installed(&o->a, res.install, res.install.count);
	range_alloc_deliver(&o->a, res.buffer);
	*offset = res.offset;
	return 0;
}

static void ours_release(void *self, size_t offset)
{
	struct ours *o = self;
	struct range_buffer *b;

	if (range_alloc_prepare_user_free(&o->a, offset, &b) == 0)
		range_alloc_release(&o->a, b);
	else
		abort();
}

static void *base_create(size_t region, struct page_geometry geo)
{
	return baseline_new(region, geo);
}

static void base_destroy(void *self)
{
	baseline_free(self);
}

static int base_alloc(void *self, size_t size, bool async, int32_t pid, size_t *offset)
{
	(void)pid;
	return baseline_alloc(self, size, async, offset);
}

static void base_release(void *self, size_t offset)
{
	if (baseline_release(self, offset))
		abort();
}

static const struct subject subjects[2] = {
	{ "ubinder", ours_create, ours_destroy, ours_alloc, ours_release },
	{ "rb-tree best fit", base_create, base_destroy, base_alloc, base_release },
};

/* Live buffers, in one array of pairs: one cache line per random pick. */
struct live_entry {
	size_t offset, size;
};

struct live {
	struct live_entry *e;
	size_t n, cap, bytes;
};

static void live_push(struct live *l, size_t offset, size_t size)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->e = realloc(l->e, l->cap * sizeof(*l->e));
		if (!l->e)
			abort();
	}
	l->e[l->n++] = (struct live_entry){ offset, size };
	l->bytes += size;
}

/* A uniform index below n from 64 random bits, without a division. */
static inline size_t pick(uint64_t random, size_t n)
{
	return (size_t)(((unsigned __int128)random * n) >> 64);
}

/* Removes entry @i (swap with the last) and returns its offset. */
static size_t live_take(struct live *l, size_t i)
{
	size_t offset = l->e[i].offset;

	l->bytes -= l->e[i].size;
	l->e[i] = l->e[--l->n];
	return offset;
}

static void live_clear(struct live *l)
{
	free(l->e);
	memset(l, 0, sizeof(*l));
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : 0;
}

/* The churn state of one subject. */
struct churn {
	const struct subject *s;
	void *self;
	struct live live;
	struct rng rng;
	size_t region;
	enum workload w;
	double *alloc_ns, *free_ns;
	size_t samples;
	size_t attempts, failures;
};

static bool try_alloc(struct churn *c, size_t size)
{
	size_t offset;
	bool async = next_rand(&c->rng) % 5 == 0;
	int32_t pid = (int32_t)(next_rand(&c->rng) % 8);

	if (c->s->alloc(c->self, size, async, pid, &offset))
		return false;
	live_push(&c->live, offset, (size + 7) & ~(size_t)7);
	return true;
}

/* Brings occupancy back into [58%, 62%], untimed. */
static void rebalance(struct churn *c)
{
	size_t lo = c->region / 100 * 58, hi = c->region / 100 * 62, misses = 0;

	while (c->live.bytes < lo && misses < 1000)
		misses = try_alloc(c, draw_size(&c->rng, c->w)) ? 0 : misses + 1;
	while (c->live.bytes > hi && c->live.n)
		c->s->release(c->self, live_take(&c->live, pick(next_rand(&c->rng), c->live.n)));
}

/*
 * One round of timed batches. Only the allocator calls are timed: the
 * harness draws the random numbers, picks the buffers to free (from the live
 * array) and records the new ones outside the timed loops, for both
 * allocators alike.
 */
static void churn_round(struct churn *c, size_t batches)
{
	size_t sizes[BATCH], offsets[BATCH];
	bool async[BATCH];
	int32_t pids[BATCH];
	int results[BATCH];

	for (size_t b = 0; b < batches; b++) {
		double t0, t1;
		size_t n = c->live.n < BATCH ? c->live.n : BATCH;

		for (size_t i = 0; i < BATCH; i++) {
			uint64_t random = next_rand(&c->rng);

			sizes[i] = draw_size(&c->rng, c->w);
			async[i] = next_rand(&c->rng) % 5 == 0;
			pids[i] = (int32_t)(next_rand(&c->rng) % 8);
			if (i < n)
				offsets[i] = live_take(&c->live, pick(random, c->live.n));
		}
		t0 = now_ns();
		for (size_t i = 0; i < n; i++)
			c->s->release(c->self, offsets[i]);
		t1 = now_ns();
		if (n == BATCH)
			c->free_ns[c->samples] = (t1 - t0) / BATCH;
		t0 = now_ns();
		for (size_t i = 0; i < BATCH; i++)
			results[i] = c->s->alloc(c->self, sizes[i], async[i], pids[i], &offsets[i]);
		t1 = now_ns();
		c->alloc_ns[c->samples] = (t1 - t0) / BATCH;
		for (size_t i = 0; i < BATCH; i++) {
			if (results[i] == 0)
				live_push(&c->live, offsets[i], (sizes[i] + 7) & ~(size_t)7);
			else
				c->failures++;
		}
		if (n == BATCH)
			c->samples++;
		c->attempts += BATCH;
		rebalance(c);
	}
}

struct result {
	double alloc_ns[2], free_ns[2], frag[2], fail_rate[2];
	double occupancy[2];
};

/* Profiling aid: churn only subject 0 or 1 (-1: both). */
static int only = -1;

static void run_churn(size_t region, enum workload w, struct page_geometry geo, size_t rounds,
		      size_t batches, struct result *res)
{
	struct churn c[2];

	for (int k = 0; k < 2; k++) {
		c[k] = (struct churn){
			.s = &subjects[k], .rng = { 12345 }, .region = region, .w = w
		};
		c[k].self = c[k].s->create(region, geo);
		c[k].alloc_ns = calloc(rounds * batches, sizeof(double));
		c[k].free_ns = calloc(rounds * batches, sizeof(double));
		if (!c[k].self || !c[k].alloc_ns || !c[k].free_ns)
			abort();
		rebalance(&c[k]);
	}
	for (size_t r = 0; r < rounds; r++)
		for (int k = 0; k < 2; k++)
			if (only < 0 || (size_t)only == (r + (size_t)k) % 2)
				churn_round(&c[(r + (size_t)k) % 2], batches);
	for (int k = 0; k < 2; k++) {
		res->occupancy[k] = (double)c[k].live.bytes / (double)region;
		res->alloc_ns[k] = median(c[k].alloc_ns, c[k].samples);
		res->free_ns[k] = median(c[k].free_ns, c[k].samples);
		res->fail_rate[k] =
			c[k].attempts ? (double)c[k].failures / (double)c[k].attempts : 0;
		c[k].s->destroy(c[k].self);
		live_clear(&c[k].live);
		free(c[k].alloc_ns);
		free(c[k].free_ns);
	}
}

/* Live bytes / region at the first failed allocation, random alloc 55% / free 45%. */
static double first_failure(const struct subject *s, size_t region, enum workload w,
			    struct page_geometry geo, uint64_t seed)
{
	struct rng rng = { seed };
	struct live live = { 0 };
	void *self = s->create(region, geo);
	double occupancy = 0;

	if (!self)
		abort();
	for (;;) {
		if (live.n == 0 || next_rand(&rng) % 100 < 55) {
			size_t size, offset;
			bool async = next_rand(&rng) % 5 == 0;
			int32_t pid = (int32_t)(next_rand(&rng) % 8);

			do
				size = draw_size(&rng, w);
			while (size > region);
			if (s->alloc(self, size, async, pid, &offset)) {
				occupancy = (double)live.bytes / (double)region;
				break;
			}
			live_push(&live, offset, (size + 7) & ~(size_t)7);
		} else {
			s->release(self, live_take(&live, pick(next_rand(&rng), live.n)));
		}
	}
	s->destroy(self);
	live_clear(&live);
	return occupancy;
}

static void usage(FILE *out)
{
	fputs("Usage: ubinder-bench-alloc [options]\n"
	      "  --region BYTES     a region size (repeatable; default 128K 4M 64M 1G;\n"
	      "                     K, M, G suffixes)\n"
	      "  --workload NAME    binder or small (repeatable; default both)\n"
	      "  --seeds N          fragmentation seeds (default 20; 0 skips it)\n"
	      "  --rounds N         churn rounds per allocator (default 10; 0 skips churn)\n"
	      "  --batches N        batches of 64 frees + 64 allocs per round (default 300)\n"
	      "  --page-size BYTES  default: the machine's\n"
	      "  --only ours|base   churn one allocator only (for profiling)\n"
	      "Prints a markdown table.\n",
	      out);
}

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'K':
		v <<= 10;
		break;
	case 'M':
		v <<= 20;
		break;
	case 'G':
		v <<= 30;
		break;
	default:
		break;
	}
	return (size_t)v;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "region", required_argument, NULL, 'r' },
		{ "workload", required_argument, NULL, 'w' },
		{ "seeds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "batches", required_argument, NULL, 'b' },
		{ "page-size", required_argument, NULL, 'p' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *names[] = { "binder", "small" };
	size_t regions[16] = { 0 }, nregions = 0, seeds = 20, rounds = 10, batches = 300;
	enum workload workloads[2];
	size_t nworkloads = 0;
	struct page_geometry geo = page_geometry_of_machine();
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (nregions < 16)
				regions[nregions++] = parse_size(optarg);
			break;
		case 'w':
			if (nworkloads < 2)
				workloads[nworkloads++] = strcmp(optarg, "small") ? BINDER : SMALL;
			break;
		case 's':
			seeds = parse_size(optarg);
			break;
		case 'n':
			rounds = parse_size(optarg);
			break;
		case 'b':
			batches = parse_size(optarg);
			break;
		case 'p':
			geo.shift = (unsigned int)__builtin_ctzll(parse_size(optarg));
			break;
		case 'o':
			only = strcmp(optarg, "ours") ? 1 : 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!nregions) {
		regions[0] = (size_t)128 << 10;
		regions[1] = (size_t)4 << 20;
		regions[2] = (size_t)64 << 20;
		regions[3] = (size_t)1 << 30;
		nregions = 4;
	}
	if (!nworkloads) {
		workloads[0] = BINDER;
		workloads[1] = SMALL;
		nworkloads = 2;
	}
	printf("| workload | region | ours alloc ns | ours free ns | base alloc ns | base free ns "
	       "| speed-up | ours frag | base frag | churn occupancy | churn failed allocs |\n"
	       "|---|---|---|---|---|---|---|---|---|---|---|\n");
	fflush(stdout);
	for (size_t wi = 0; wi < nworkloads; wi++)
		for (size_t ri = 0; ri < nregions; ri++) {
			struct result res = { 0 };

			if (rounds)
				run_churn(regions[ri], workloads[wi], geo, rounds, batches, &res);
			for (size_t s = 0; s < seeds; s++)
				for (int k = 0; k < 2; k++)
					res.frag[k] += first_failure(&subjects[k], regions[ri],
								     workloads[wi], geo, s + 1) /
						       (double)seeds;
			printf("| %s | %zu KiB | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2f%% | "
			       "%.2f%% "
			       "| %.0f%% / %.0f%% | %.2f%% / %.2f%% |\n",
			       names[workloads[wi]], regions[ri] >> 10, res.alloc_ns[0],
			       res.free_ns[0], res.alloc_ns[1], res.free_ns[1],
			       rounds ? (res.alloc_ns[1] + res.free_ns[1]) /
						(res.alloc_ns[0] + res.free_ns[0])
				      : 0.0,
			       100 * res.frag[0], 100 * res.frag[1], 100 * res.occupancy[0],
			       100 * res.occupancy[1], 100 * res.fail_rate[0],
			       100 * res.fail_rate[1]);
			fflush(stdout);
		}
	return 0;
}
