/* SPDX-License-Identifier: MIT */
/*
 * The layout table (rpc_layout.h): a list, looked up linearly, since a
 * bridge knows a handful of interfaces.
 */
#include <stdlib.h>
#include <string.h>

#include "rpc_layout.h"

struct rpc_layouts {
	struct rpc_layout *v;
	size_t n, cap;
};

/* Android 14's IServiceManager (frameworks/native, IServiceManager.aidl):
 * getService 1, checkService 2 (String name -> IBinder), addService 3
 * (String name, IBinder service, boolean allowIsolated, int dumpPriority). */
static const char builtin[] =
	"org.ubinder.example.IKeyValue 5 request binder:org.ubinder.example.IKeyValueWatcher\n"
	"android.os.IServiceManager 1 reply status binder\n"
	"android.os.IServiceManager 2 reply status binder\n"
	"android.os.IServiceManager 3 request str16 binder i32 i32\n";

static void layout_clear(struct rpc_layout *y)
{
	free(y->descriptor);
	for (unsigned i = 0; i < y->nfields; i++)
		free(y->binder_descriptor[i]);
}

void rpc_layouts_free(struct rpc_layouts *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		layout_clear(&l->v[i]);
	free(l->v);
	free(l);
}

struct rpc_layouts *rpc_layouts_new(void)
{
	struct rpc_layouts *l = calloc(1, sizeof(*l));

	if (l && rpc_layouts_parse(l, builtin) != 0) {
		rpc_layouts_free(l);
		return NULL;
	}
	return l;
}

/* The next whitespace-separated word of the line at *s (a copy), or NULL
 * at the end of the line or a comment. */
static char *word(const char **s)
{
	const char *p = *s, *start;
	char *w;

	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (!*p || *p == '\n' || *p == '#') {
		*s = p;
		return NULL;
	}
	start = p;
	while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
		p++;
	*s = p;
	w = malloc((size_t)(p - start) + 1);
	if (w) {
		memcpy(w, start, (size_t)(p - start));
		w[p - start] = '\0';
	}
	return w;
}

/* One field word into @y; false if it is not one. */
static bool parse_field(struct rpc_layout *y, const char *w)
{
	static const struct {
		const char *name;
		enum rpc_field f;
	} names[] = { { "i32", RPC_FIELD_I32 },	      { "i64", RPC_FIELD_I64 },
		      { "str16", RPC_FIELD_STR16 },   { "status", RPC_FIELD_STATUS },
		      { "binder", RPC_FIELD_BINDER }, { "fd", RPC_FIELD_FD } };

	if (y->nfields == RPC_LAYOUT_MAX_FIELDS)
		return false;
	if (!strncmp(w, "binder:", 7) && w[7]) {
		y->binder_descriptor[y->nfields] = strdup(w + 7);
		if (!y->binder_descriptor[y->nfields])
			return false;
		y->fields[y->nfields++] = RPC_FIELD_BINDER;
		return true;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(w, names[i].name)) {
			y->fields[y->nfields++] = names[i].f;
			return true;
		}
	}
	return false;
}

/* Reads one line into @y: 1 a layout, 0 an empty line, -1 a bad line. */
static int parse_line(const char **s, struct rpc_layout *y)
{
	char *w[3] = { NULL, NULL, NULL }, *f, *end;
	unsigned long code;
	int ret = -1;

	memset(y, 0, sizeof(*y));
	for (int i = 0; i < 3; i++)
		w[i] = word(s);
	if (!w[0]) {
		ret = 0;
		goto out;
	}
	if (!w[1] || !w[2])
		goto out;
	code = strtoul(w[1], &end, 0);
	if (*end || end == w[1] || code > UINT32_MAX)
		goto out;
	if (strcmp(w[2], "request") && strcmp(w[2], "reply"))
		goto out;
	y->code = (uint32_t)code;
	y->reply = !strcmp(w[2], "reply");
	while ((f = word(s))) {
		bool ok = parse_field(y, f);

		free(f);
		if (!ok)
			goto out;
	}
	y->descriptor = w[0];
	w[0] = NULL;
	ret = 1;
out:
	for (int i = 0; i < 3; i++)
		free(w[i]);
	if (ret < 0)
		layout_clear(y);
	return ret;
}

int rpc_layouts_parse(struct rpc_layouts *l, const char *text)
{
	size_t first = l->n;
	int line = 1;

	for (const char *s = text; *s; line++) {
		struct rpc_layout y;
		int r = parse_line(&s, &y);

		if (r > 0 && l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 8;
			struct rpc_layout *v = realloc(l->v, cap * sizeof(*v));

			if (!v) {
				layout_clear(&y);
				r = -2;
			} else {
				l->v = v;
				l->cap = cap;
			}
		}
		if (r > 0)
			l->v[l->n++] = y;
		if (r < 0) {
			while (l->n > first)
				layout_clear(&l->v[--l->n]);
			return r == -2 ? -1 : line;
		}
		while (*s && *s != '\n')
			s++;
		if (*s)
			s++;
	}
	return 0;
}

const struct rpc_layout *rpc_layouts_find(const struct rpc_layouts *l, const char *descriptor,
					  uint32_t code, bool reply)
{
	if (!descriptor)
		return NULL;
	/* later lines win: a file may replace a built-in layout */
	for (size_t i = l->n; i-- > 0;) {
		const struct rpc_layout *y = &l->v[i];

		if (y->code == code && y->reply == reply && !strcmp(y->descriptor, descriptor))
			return y;
	}
	return NULL;
}
