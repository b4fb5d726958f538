/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc_model.h"
#include "alloc/range_alloc.h"

#define MODEL_ALLOCS	2
#define MODEL_MAX_PAGES 48
#define MODEL_MAX_BUFS	512
#define MODEL_PIDS	4
#define MODEL_MAX_CALLS (MODEL_ALLOCS * MODEL_MAX_PAGES)
#define NO_FAILURE	SIZE_MAX

struct reader {
	const uint8_t *p;
	size_t left;
};

static uint8_t next_u8(struct reader *r)
{
	if (!r->left)
		return 0;
	r->left--;
	return *r->p++;
}

static uint32_t next_u32(struct reader *r)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = (v << 8) | next_u8(r);
	return v;
}

struct model_buffer {
	size_t offset, size;
	size_t data, offsets, extra;
	enum range_buffer_state state;
	bool async;
	int32_t pid;
	struct range_buffer *real;
};

struct model;

struct model_alloc {
	struct model *m;
	int index;
	bool live;
	struct range_alloc real;
	size_t size, pages;
	struct model_buffer bufs[MODEL_MAX_BUFS]; /* sorted by offset */
	size_t n;
	bool installed[MODEL_MAX_PAGES];
	size_t pages_high;
	size_t free_async;
	bool spam_detected;
};

struct lru_entry {
	int alloc;
	size_t page;
};

struct release_call {
	int alloc;
	size_t first, count;
};

struct model {
	struct reader in;
	struct page_geometry geo;
	struct page_lru lru;
	struct model_alloc allocs[MODEL_ALLOCS];
	struct lru_entry lru_list[MODEL_ALLOCS * MODEL_MAX_PAGES]; /* oldest first */
	size_t lru_n;
	struct release_call calls[MODEL_MAX_CALLS]; /* what the hooks were asked */
	size_t ncalls;
	size_t fail_at; /* the hook call (index into calls) that fails */
	size_t step;
	char *why;
	size_t why_len;
};

__attribute__((format(printf, 2, 3))) static int bad(struct model *m, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(m->why, m->why_len, "step %zu: ", m->step);

	if (n >= 0 && (size_t)n < m->why_len) {
		va_start(ap, fmt);
		vsnprintf(m->why + n, m->why_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int hook(void *ctx, size_t first, size_t count)
{
	struct model_alloc *ma = ctx;
	struct model *m = ma->m;

	if (m->ncalls == m->fail_at) {
		m->fail_at = NO_FAILURE;
		return -EIO;
	}
	if (m->ncalls < MODEL_MAX_CALLS)
		m->calls[m->ncalls] = (struct release_call){ ma->index, first, count };
	m->ncalls++;
	return 0;
}

/* Which pages live buffers of @ma touch. */
static void model_active(const struct model_alloc *ma, const struct model *m, bool *active)
{
	memset(active, 0, MODEL_MAX_PAGES);
	for (size_t i = 0; i < ma->n; i++) {
		struct page_range t =
			geo_pages_touched(m->geo, ma->bufs[i].offset, ma->bufs[i].size);

		for (size_t p = t.first; p < t.first + t.count; p++)
			active[p] = true;
	}
}

static void lru_append(struct model *m, int alloc, size_t page)
{
	m->lru_list[m->lru_n++] = (struct lru_entry){ alloc, page };
}

static void lru_remove(struct model *m, int alloc, size_t page)
{
	for (size_t i = 0; i < m->lru_n; i++)
		if (m->lru_list[i].alloc == alloc && m->lru_list[i].page == page) {
			memmove(&m->lru_list[i], &m->lru_list[i + 1],
				(m->lru_n - i - 1) * sizeof(m->lru_list[0]));
			m->lru_n--;
			return;
		}
}

static int alloc_up(struct model *m, struct model_alloc *ma)
{
	struct range_alloc_backend be = { .release = hook, .ctx = ma };
	size_t pages = next_u8(&m->in) % MODEL_MAX_PAGES + 1;

	memset(ma->installed, 0, sizeof(ma->installed));
	ma->n = 0;
	ma->size = pages << m->geo.shift;
	ma->pages = pages;
	ma->pages_high = 0;
	ma->free_async = ma->size / 2;
	ma->spam_detected = false;
	if (range_alloc_init(&ma->real, ma->size, m->geo, &m->lru, &be) != 0)
		return bad(m, "init of %zu pages failed", pages);
	ma->live = true;
	/* Often no fast look at all, so that the fallback scan carries completeness. */
	ma->real.free.scan_limit =
		(unsigned int[]){ 0, 1, FREE_INDEX_SCAN_LIMIT }[next_u8(&m->in) % 3];
	return 0;
}

static void alloc_down(struct model *m, struct model_alloc *ma)
{
	range_alloc_deinit(&ma->real);
	ma->live = false;
	for (size_t p = 0; p < ma->pages; p++)
		lru_remove(m, ma->index, p);
}

/* The kernel's formula, computed the slow way. */
static bool model_size(size_t data, size_t offsets, size_t extra, size_t *size)
{
	unsigned __int128 sum = 0;
	size_t parts[3] = { data, offsets, extra };

	for (int i = 0; i < 3; i++) {
		unsigned __int128 v = ((unsigned __int128)parts[i] + 7) / 8 * 8;

		if (v > SIZE_MAX)
			return false;
		sum += v;
	}
	if (sum > SIZE_MAX)
		return false;
	*size = sum < 8 ? 8 : (size_t)sum;
	return true;
}

static size_t pick_size(struct model *m, size_t region)
{
	size_t page = geo_page_size(m->geo);

	switch (next_u8(&m->in) % 8) {
	case 0:
		return 0;
	case 1:
	case 2:
		return next_u8(&m->in);
	case 3:
		return next_u32(&m->in) % (page + 1);
	case 4:
		return next_u32(&m->in) % (3 * page + 1);
	case 5:
		return next_u32(&m->in) % (region + page + 1);
	case 6:
		return SIZE_MAX - next_u8(&m->in);
	default:
		return (SIZE_MAX / 2) - next_u8(&m->in);
	}
}

/* Can any gap between the model's buffers hold @size? And is @offset a gap start? */
static size_t largest_gap(const struct model_alloc *ma, size_t offset, bool *offset_ok, size_t size)
{
	size_t start = 0, largest = 0;

	*offset_ok = false;
	for (size_t i = 0; i <= ma->n; i++) {
		size_t end = i < ma->n ? ma->bufs[i].offset : ma->size;

		if (end > start) {
			if (end - start > largest)
				largest = end - start;
			if (offset == start && end - start >= size)
				*offset_ok = true;
		}
		if (i < ma->n)
			start = ma->bufs[i].offset + ma->bufs[i].size;
	}
	return largest;
}

static bool model_spam_check(struct model_alloc *ma, int32_t pid)
{
	size_t n = 0, bytes = 0;

	if (ma->free_async >= ma->size / 10) {
		ma->spam_detected = false;
		return false;
	}
	for (size_t i = 0; i < ma->n; i++)
		if (ma->bufs[i].async && ma->bufs[i].pid == pid) {
			n++;
			bytes += ma->bufs[i].size;
		}
	if ((n > 50 || bytes > ma->size / 4) && !ma->spam_detected) {
		ma->spam_detected = true;
		return true;
	}
	return false;
}

static int op_reserve(struct model *m, struct model_alloc *ma)
{
	size_t data = pick_size(m, ma->size);
	size_t offsets = next_u8(&m->in) % 4 == 0 ? next_u8(&m->in) : 0;
	size_t extra = next_u8(&m->in) % 4 == 0 ? pick_size(m, ma->size) : 0;
	uint8_t flags = next_u8(&m->in);
	bool async = flags & 1;
	int32_t pid = (flags >> 1) % MODEL_PIDS;
	size_t size, install_k, i;
	struct range_reservation res;
	bool before[MODEL_MAX_PAGES], offset_ok;
	struct page_range t;
	size_t first_missing = SIZE_MAX, last_missing = 0;
	int want, r;

	r = range_alloc_reserve(&ma->real, data, offsets, extra, async, pid, &res);
	if (!model_size(data, offsets, extra, &size))
		want = -EINVAL;
	else if (size > ma->size || (async && ma->free_async < size))
		want = -ENOSPC;
	else
		want = largest_gap(ma, SIZE_MAX, &offset_ok, size) >= size ? 0 : -ENOSPC;
	if (r != want)
		return bad(m, "reserve %zu/%zu/%zu %s: got %d, model says %d (largest gap %zu)",
			   data, offsets, extra, async ? "async" : "sync", r, want,
			   largest_gap(ma, SIZE_MAX, &offset_ok, 0));
	if (r)
		return 0;
	largest_gap(ma, res.offset, &offset_ok, size);
	if (!offset_ok)
		return bad(m, "reserve of %zu placed at %zu: not the start of a large enough gap",
			   size, res.offset);
	if (ma->n == MODEL_MAX_BUFS)
		return bad(m, "model full");
	model_active(ma, m, before);
	for (i = 0; i < ma->n && ma->bufs[i].offset < res.offset; i++)
		;
	memmove(&ma->bufs[i + 1], &ma->bufs[i], (ma->n - i) * sizeof(ma->bufs[0]));
	ma->bufs[i] = (struct model_buffer){ res.offset, size,	data,
					     offsets,	 extra, RANGE_BUFFER_RESERVED,
					     async,	 pid,	res.buffer };
	ma->n++;
	t = geo_pages_touched(m->geo, res.offset, size);
	for (size_t p = t.first; p < t.first + t.count; p++) {
		if (!before[p] && ma->installed[p])
			lru_remove(m, ma->index, p);
		if (!ma->installed[p]) {
			if (first_missing == SIZE_MAX)
				first_missing = p;
			last_missing = p;
		}
	}
	if (t.first + t.count > ma->pages_high)
		ma->pages_high = t.first + t.count;
	if (first_missing == SIZE_MAX
		    ? res.install.count != 0
		    : res.install.first != first_missing ||
			      res.install.count != last_missing - first_missing + 1)
		return bad(m, "install range %zu+%zu, model wants %zu..%zu", res.install.first,
			   res.install.count, first_missing, last_missing);
	if (async) {
		ma->free_async -= size;
		if (model_spam_check(ma, pid) != res.spam_suspect)
			return bad(m, "spam flag %d for pid %d, model disagrees", res.spam_suspect,
				   pid);
	} else if (res.spam_suspect) {
		return bad(m, "sync buffer flagged as spam");
	}
	/* Install: mostly everything, sometimes part of it (a failed install). */
	install_k =
		next_u8(&m->in) % 4 ? res.install.count : next_u8(&m->in) % (res.install.count + 1);
	range_alloc_installed(&ma->real, res.install, install_k);
	for (size_t p = res.install.first; p < res.install.first + install_k; p++)
		ma->installed[p] = true;
	return 0;
}

static struct model_buffer *pick_buffer(struct model *m, struct model_alloc *ma)
{
	uint8_t b = next_u8(&m->in);

	return ma->n ? &ma->bufs[b % ma->n] : NULL;
}

static int op_deliver(struct model *m, struct model_alloc *ma)
{
	struct model_buffer *b = pick_buffer(m, ma);
	int want, r;

	if (!b)
		return 0;
	want = b->state == RANGE_BUFFER_RESERVED ? 0 : -EPERM;
	r = range_alloc_deliver(&ma->real, b->real);
	if (r != want)
		return bad(m, "deliver of %zu: %d, model %d", b->offset, r, want);
	if (!r)
		b->state = RANGE_BUFFER_DELIVERED;
	return 0;
}

static void model_release(struct model *m, struct model_alloc *ma, struct model_buffer *b)
{
	bool before[MODEL_MAX_PAGES], after[MODEL_MAX_PAGES];

	model_active(ma, m, before);
	if (b->async)
		ma->free_async += b->size;
	memmove(b, b + 1, (size_t)(&ma->bufs[ma->n - 1] - b) * sizeof(*b));
	ma->n--;
	model_active(ma, m, after);
	for (size_t p = 0; p < ma->pages; p++)
		if (before[p] && !after[p] && ma->installed[p])
			lru_append(m, ma->index, p);
}

static int op_release(struct model *m, struct model_alloc *ma)
{
	struct model_buffer *b = pick_buffer(m, ma);

	if (!b)
		return 0;
	range_alloc_release(&ma->real, b->real);
	model_release(m, ma, b);
	return 0;
}

static int op_user_free(struct model *m, struct model_alloc *ma, bool bogus)
{
	struct model_buffer *b = NULL;
	struct range_buffer *got = NULL;
	size_t offset;
	int want, r;

	if (bogus) {
		offset = next_u32(&m->in) % (ma->size + 16);
		for (size_t i = 0; i < ma->n; i++)
			if (ma->bufs[i].offset == offset)
				b = &ma->bufs[i];
	} else {
		b = pick_buffer(m, ma);
		if (!b)
			return 0;
		offset = b->offset;
	}
	want = !b ? -ENOENT : b->state == RANGE_BUFFER_DELIVERED ? 0 : -EPERM;
	r = range_alloc_prepare_user_free(&ma->real, offset, &got);
	if (r != want)
		return bad(m, "user free of %zu: %d, model %d", offset, r, want);
	if (r)
		return 0;
	if (got != b->real)
		return bad(m, "user free of %zu returned another buffer", offset);
	b->state = RANGE_BUFFER_FREEING;
	if (next_u8(&m->in) % 2) {
		range_alloc_release(&ma->real, got);
		model_release(m, ma, b);
	}
	return 0;
}

static int op_shrink(struct model *m)
{
	uint8_t arg = next_u8(&m->in);
	size_t max = arg % 8 == 7 ? SIZE_MAX : arg % 8;
	size_t fail_in = next_u8(&m->in) % 4 == 0 ? next_u8(&m->in) % 4 : NO_FAILURE;
	size_t want = 0, call = 0, got;

	m->ncalls = 0;
	m->fail_at = fail_in;
	got = page_lru_shrink(&m->lru, max);
	/* The model: batches of consecutive pages of one region, oldest first. */
	while (want < max && m->lru_n) {
		struct lru_entry first = m->lru_list[0];
		struct model_alloc *ma = &m->allocs[first.alloc];
		size_t count = 1;

		while (count < max - want && count < m->lru_n &&
		       m->lru_list[count].alloc == first.alloc &&
		       m->lru_list[count].page == first.page + count)
			count++;
		if (call == fail_in)
			break;
		if (call >= m->ncalls || m->calls[call].alloc != first.alloc ||
		    m->calls[call].first != first.page || m->calls[call].count != count)
			return bad(m, "shrink call %zu: model wants region %d pages %zu+%zu", call,
				   first.alloc, first.page, count);
		for (size_t i = 0; i < count; i++)
			ma->installed[first.page + i] = false;
		memmove(m->lru_list, m->lru_list + count,
			(m->lru_n - count) * sizeof(m->lru_list[0]));
		m->lru_n -= count;
		want += count;
		call++;
	}
	if (got != want || call != m->ncalls)
		return bad(m, "shrink(%zu) released %zu in %zu calls, model %zu in %zu", max, got,
			   m->ncalls, want, call);
	m->fail_at = NO_FAILURE;
	return 0;
}

/* A reserved buffer trimmed to smaller sizes (a promised reply's room). */
static int op_trim(struct model *m, struct model_alloc *ma)
{
	struct model_buffer *b = pick_buffer(m, ma);
	bool before[MODEL_MAX_PAGES], after[MODEL_MAX_PAGES];
	size_t data, offsets, extra, size;
	bool fits;
	int want, r;

	if (!b)
		return 0;
	data = b->size ? next_u32(&m->in) % (b->size + 16) : 0;
	offsets = next_u8(&m->in) % 2 ? 0 : next_u8(&m->in) % 24;
	extra = next_u8(&m->in) % 4 ? 0 : next_u8(&m->in) % 24;
	fits = model_size(data, offsets, extra, &size) && size <= b->size;
	want = b->state == RANGE_BUFFER_RESERVED && !b->async && fits ? 0 : -EINVAL;
	r = range_alloc_trim(&ma->real, b->real, data, offsets, extra);
	if (r != want)
		return bad(m, "trim of %zu to %zu: %d, model %d", b->offset, data, r, want);
	if (r)
		return 0;
	model_active(ma, m, before);
	b->size = size;
	b->data = data;
	b->offsets = offsets;
	b->extra = extra;
	model_active(ma, m, after);
	for (size_t p = 0; p < ma->pages; p++)
		if (before[p] && !after[p] && ma->installed[p])
			lru_append(m, ma->index, p);
	return 0;
}

static int op_punch(struct model *m, struct model_alloc *ma)
{
	size_t from = next_u8(&m->in) % ma->pages;
	bool active[MODEL_MAX_PAGES];
	struct page_range r;
	int got;

	model_active(ma, m, active);
	if (next_u8(&m->in) % 4 == 0) {
		/* An arbitrary range: refused if it holds an active page. */
		bool any = false;

		r.first = from;
		r.count = next_u8(&m->in) % (ma->pages - from + 1);
		for (size_t p = r.first; p < r.first + r.count; p++)
			any |= active[p];
		got = range_alloc_pages_released(&ma->real, r);
		if (got != (any ? -EBUSY : 0))
			return bad(m, "punch %zu+%zu: %d, active page %d", r.first, r.count, got,
				   any);
		if (any)
			return 0;
	} else {
		if (!range_alloc_next_inactive(&ma->real, from, &r))
			return 0;
		for (size_t p = from; p < r.first; p++)
			if (!active[p])
				return bad(m, "inactive page %zu skipped by the iterator", p);
		for (size_t p = r.first; p < r.first + r.count; p++)
			if (active[p])
				return bad(m, "iterator range %zu+%zu holds active page %zu",
					   r.first, r.count, p);
		if (r.first + r.count < ma->pages && !active[r.first + r.count])
			return bad(m, "iterator range %zu+%zu is not maximal", r.first, r.count);
		if (range_alloc_pages_released(&ma->real, r) != 0)
			return bad(m, "punching inactive range %zu+%zu refused", r.first, r.count);
	}
	for (size_t p = r.first; p < r.first + r.count; p++) {
		if (ma->installed[p])
			lru_remove(m, ma->index, p);
		ma->installed[p] = false;
	}
	return 0;
}

static int verify_alloc(struct model *m, struct model_alloc *ma)
{
	bool active[MODEL_MAX_PAGES];
	size_t n_active = 0, n_lru = 0, i = 0;
	struct range_alloc_stats st;
	char why[200];

	if (range_alloc_check(&ma->real, why, sizeof(why)) != 0)
		return bad(m, "region %d inconsistent: %s", ma->index, why);
	model_active(ma, m, active);
	for (size_t p = 0; p < ma->pages; p++) {
		enum range_page_state want = active[p]		? RANGE_PAGE_ACTIVE
					     : ma->installed[p] ? RANGE_PAGE_LRU
								: RANGE_PAGE_FREE;

		if (range_alloc_page_state(&ma->real, p) != want)
			return bad(m, "region %d page %zu: state %d, model %d", ma->index, p,
				   range_alloc_page_state(&ma->real, p), want);
		n_active += active[p];
		n_lru += !active[p] && ma->installed[p];
	}
	range_alloc_get_stats(&ma->real, &st);
	if (st.pages_active != n_active || st.pages_lru != n_lru ||
	    st.pages_free != ma->pages - n_active - n_lru || st.pages_high != ma->pages_high ||
	    st.buffers != ma->n || st.free_async_space != ma->free_async)
		return bad(m, "region %d stats differ from the model", ma->index);
	for (struct range_buffer *b = range_alloc_first_buffer(&ma->real); b;
	     b = range_alloc_next_buffer(&ma->real, b), i++) {
		const struct model_buffer *mb = &ma->bufs[i];

		if (i >= ma->n || b != mb->real || b->offset != mb->offset || b->size != mb->size ||
		    b->state != mb->state || b->async != mb->async || b->pid != mb->pid ||
		    b->data_size != mb->data || b->offsets_size != mb->offsets ||
		    b->extra_size != mb->extra)
			return bad(m, "region %d buffer %zu differs from the model", ma->index, i);
	}
	if (i != ma->n)
		return bad(m, "region %d iterator gave %zu of %zu buffers", ma->index, i, ma->n);
	return 0;
}

static int verify(struct model *m)
{
	size_t i = 0;

	for (int a = 0; a < MODEL_ALLOCS; a++)
		if (m->allocs[a].live && verify_alloc(m, &m->allocs[a]))
			return -1;
	if (m->lru.pages != m->lru_n)
		return bad(m, "LRU holds %zu pages, model %zu", m->lru.pages, m->lru_n);
	for (const struct lru_node *n = m->lru.head.next; n != &m->lru.head; n = n->next, i++) {
		const struct lru_entry *e = &m->lru_list[i];
		const struct range_alloc *ra = &m->allocs[e->alloc].real;

		if (n->owner != &ra->lru_owner || (size_t)(n - ra->lru_owner.nodes) != e->page)
			return bad(m, "LRU position %zu differs from the model", i);
	}
	return 0;
}

static int step(struct model *m)
{
	uint8_t op = next_u8(&m->in);
	struct model_alloc *ma = &m->allocs[(op >> 4) % MODEL_ALLOCS];

	if (!ma->live)
		return alloc_up(m, ma);
	switch (op % 16) {
	case 0 ... 5:
		return op_reserve(m, ma);
	case 6:
	case 7:
		return op_deliver(m, ma);
	case 8:
	case 9:
		return op_user_free(m, ma, false);
	case 10:
		return op_user_free(m, ma, true);
	case 11:
		return op_release(m, ma);
	case 12:
		return op_shrink(m);
	case 13:
		return op_punch(m, ma);
	case 14:
		if (next_u8(&m->in) % 8 == 0)
			alloc_down(m, ma); /* process death */
		return 0;
	default:
		return op_trim(m, ma);
	}
}

int alloc_model_run(const uint8_t *data, size_t size, char *why, size_t why_len)
{
	static const unsigned int shifts[] = { 12, 14, 16 };
	struct model *m = calloc(1, sizeof(*m));
	int r = 0;

	if (!m) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	m->in = (struct reader){ data, size };
	m->why = why;
	m->why_len = why_len;
	m->fail_at = NO_FAILURE;
	m->geo.shift = shifts[next_u8(&m->in) % 3];
	page_lru_init(&m->lru);
	for (int a = 0; a < MODEL_ALLOCS; a++) {
		m->allocs[a].m = m;
		m->allocs[a].index = a;
		if (!r)
			r = alloc_up(m, &m->allocs[a]);
	}
	while (!r && m->in.left) {
		m->step++;
		r = step(m);
		if (!r)
			r = verify(m);
	}
	for (int a = 0; a < MODEL_ALLOCS; a++)
		if (m->allocs[a].live)
			alloc_down(m, &m->allocs[a]);
	if (!r && m->lru.pages != 0)
		r = bad(m, "LRU not empty after every region died");
	page_lru_deinit(&m->lru);
	free(m);
	return r;
}
