/* SPDX-License-Identifier: MIT */
/*
 * ubinder-bench-latency: the memory floor under the allocator benchmark.
 *
 * 1. Dependent-load latency against the working set: a random cycle through
 *    the cache lines of a buffer of 16 KiB to 512 MiB, each load's address
 *    coming from the load before (no overlap): what one cache miss costs on
 *    this machine at each size.
 * 2. The least a random free of a cold buffer must do, with the allocator's
 *    1 GiB binder-like steady state sizes (233,000 live buffers, 261,000
 *    64-byte records, an 8 MiB offset map with 8-byte slots): find the slot
 *    of the offset, read the record it names, optionally both address
 *    neighbours' records. Once with each free waiting for the one before (as
 *    in the daemon, where a syscall and command decoding separate two
 *    frees), once with consecutive frees free to overlap.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct line {
	uint64_t word[8];
};

static uint64_t rng_state = 12345;

static uint64_t next_rand(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void *checked(void *p)
{
	if (!p) {
		perror("ubinder-bench-latency");
		exit(1);
	}
	return p;
}

static void chase(size_t bytes)
{
	size_t n = bytes / sizeof(struct line), steps = 4000000, at;
	struct line *lines = checked(aligned_alloc(sizeof(struct line), bytes));
	size_t *order = checked(malloc(n * sizeof(*order)));
	double t0, t1;

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(next_rand() % (i + 1)), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		lines[order[i]].word[0] = order[(i + 1) % n];
	at = order[0];
	for (size_t i = 0; i < steps / 4; i++)
		at = lines[at].word[0];
	t0 = now_ns();
	for (size_t i = 0; i < steps; i++)
		at = lines[at].word[0];
	t1 = now_ns();
	printf("| %zu KiB | %.1f |%s\n", bytes >> 10, (t1 - t0) / (double)steps,
	       at == n ? " " : "");
	free(order);
	free(lines);
}

#define BUFFERS	 233000u
#define RECORDS	 261000u
#define SLOTS	 (1u << 20)
#define FREES	 2000000u
#define HASH_MUL UINT64_C(0x9e3779b97f4a7c15)

struct floor_state {
	struct line *records;
	uint64_t *slots; /* key << 31 | record index, as the offset map */
	uint64_t *keys;
	uint32_t *picks;
};

static size_t home(uint64_t key)
{
	return (size_t)((key * HASH_MUL) >> 44); /* 20 bits: SLOTS */
}

/*
 * The frees, timed. Inline with constant flags: with @serial, the next key's
 * address depends on this free's record (through @chain, which is 0 but not
 * to the compiler); without, there is no data dependency between frees.
 */
static inline __attribute__((always_inline)) double
run_frees(const struct floor_state *f, int neighbours, int serial, uint64_t chain, uint64_t *sum)
{
	double t0 = now_ns();

	for (size_t k = 0; k < FREES; k++) {
		uint32_t pick = f->picks[k];
		uint64_t key;
		size_t i;
		struct line *r;

		if (serial)
			pick ^= (uint32_t)(*sum & chain);
		key = f->keys[pick];
		for (i = home(key); (f->slots[i] >> 31) != key; i = (i + 1) & (SLOTS - 1))
			;
		r = &f->records[f->slots[i] & 0x7fffffff];
		*sum += r->word[0];
		if (neighbours)
			*sum += f->records[r->word[1]].word[0] + f->records[r->word[2]].word[0];
		r->word[3] = *sum;
	}
	return now_ns() - t0;
}

static void free_floor(void)
{
	static const char *const reads[] = { "slot, record", "slot, record, both neighbours" };
	struct floor_state f = {
		.records =
			checked(aligned_alloc(sizeof(struct line), RECORDS * sizeof(struct line))),
		.slots = checked(calloc(SLOTS, sizeof(uint64_t))),
		.keys = checked(malloc(BUFFERS * sizeof(uint64_t))),
		.picks = checked(malloc(FREES * sizeof(uint32_t))),
	};
	volatile uint64_t zero = 0;
	uint64_t sum = 0;

	for (size_t i = 0; i < RECORDS; i++) {
		f.records[i].word[0] = i;
		f.records[i].word[1] = next_rand() % RECORDS;
		f.records[i].word[2] = next_rand() % RECORDS;
	}
	for (size_t b = 0; b < BUFFERS; b++) {
		uint64_t key = b * 350 + 1; /* offset / 8 of buffers about 2.8 KB apart */
		size_t i = home(key);

		while (f.slots[i])
			i = (i + 1) & (SLOTS - 1);
		f.slots[i] = key << 31 | (1 + next_rand() % (RECORDS - 1));
		f.keys[b] = key;
	}
	for (size_t k = 0; k < FREES; k++)
		f.picks[k] = (uint32_t)(next_rand() % BUFFERS);
	for (int n = 0; n < 2; n++) {
		double serial =
			n ? run_frees(&f, 1, 1, zero, &sum) : run_frees(&f, 0, 1, zero, &sum);
		double overlapping =
			n ? run_frees(&f, 1, 0, zero, &sum) : run_frees(&f, 0, 0, zero, &sum);

		printf("| %s | one after the other | %.1f |\n", reads[n], serial / FREES);
		printf("| %s | overlapping | %.1f |%s\n", reads[n], overlapping / FREES,
		       sum == 1 ? " " : "");
	}
	free(f.picks);
	free(f.keys);
	free(f.slots);
	free(f.records);
}

int main(void)
{
	printf("| working set | ns per dependent load |\n|---|---|\n");
	for (size_t bytes = (size_t)16 << 10; bytes <= (size_t)512 << 20; bytes *= 2)
		chase(bytes);
	printf("\n| random free, 1 GiB sizes: reads | frees | ns per free |\n|---|---|---|\n");
	free_floor();
	return 0;
}
