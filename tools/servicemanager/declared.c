/* SPDX-License-Identifier: MIT */
/* Declared instances (declared.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "declared.h"
#include "managers/sm_protocol.h"
#include "ubinder/status.h"

#define DECLARED_MAX 4096

struct declared {
	struct declared_entry *v; /* sorted by name */
	size_t n;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct declared_entry *)a)->name,
		      ((const struct declared_entry *)b)->name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line: NAME [apex=APEX]; blank lines and '#' comments are skipped. */
static int parse_line(char *line, struct declared_entry *out)
{
	char *save = NULL, *name, *opt;

	line[strcspn(line, "#\n")] = '\0';
	name = strtok_r(line, " \t\r", &save);
	if (!name)
		return 1;
	if (!sm_name_valid(name) || !strchr(name, '/'))
		return -1;
	out->name = strdup(name);
	out->apex = NULL;
	while (out->name && (opt = strtok_r(NULL, " \t\r", &save)) != NULL) {
		if (strncmp(opt, "apex=", 5) != 0 || !sm_name_valid(opt + 5) || out->apex) {
			free(out->name);
			return -1;
		}
		out->apex = strdup(opt + 5);
		if (!out->apex) {
			free(out->name);
			out->name = NULL;
		}
	}
	return out->name ? 0 : -2;
}

struct declared *declared_load(const char *path)
{
	struct declared *d = calloc(1, sizeof(*d));
	FILE *f = fopen(path, "re");
	char line[512];
	unsigned lineno = 0;
	int bad = d ? 0 : -2;

	if (!f) {
		fprintf(stderr, "ubinder-servicemanager: %s: %s\n", path, strerror(errno));
		free(d);
		return NULL;
	}
	while (!bad && fgets(line, sizeof(line), f)) {
		struct declared_entry e;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			bad = -1;
			break;
		}
		bad = parse_line(line, &e);
		if (bad > 0) {
			bad = 0;
			continue;
		}
		if (!bad && d->n >= DECLARED_MAX)
			bad = -3;
		if (!bad) {
			struct declared_entry *v = realloc(d->v, (d->n + 1) * sizeof(*v));

			if (!v) {
				bad = -2;
			} else {
				d->v = v;
				d->v[d->n++] = e;
				continue;
			}
		}
		if (bad != -1 && bad != -2) {
			free(e.name);
			free(e.apex);
		}
	}
	fclose(f);
	if (bad) {
		fprintf(stderr, "ubinder-servicemanager: %s:%u: %s\n", path, lineno,
			bad == -2   ? "out of memory"
			: bad == -3 ? "too many declared instances"
				    : "expected 'package.IName/instance [apex=APEX]'");
		declared_free(d);
		return NULL;
	}
	qsort(d->v, d->n, sizeof(*d->v), cmp_entry);
	return d;
}

void declared_free(struct declared *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].name);
		free(d->v[i].apex);
	}
	free(d->v);
	free(d);
}

const struct declared_entry *declared_find(const struct declared *d, const char *name)
{
	struct declared_entry key = { (char *)name, NULL };

	if (!d || !name)
		return NULL;
	return bsearch(&key, d->v, d->n, sizeof(*d->v), cmp_entry);
}

/* The entries @pick accepts, as @pick maps them, sorted. */
static int collect(const struct declared *d, const char *key,
		   const char *(*pick)(const struct declared_entry *, const char *),
		   const char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!d || !d->n)
		return 0;
	*out = malloc(d->n * sizeof(**out));
	if (!*out)
		return UBINDER_ERR_NO_MEMORY;
	for (size_t i = 0; i < d->n; i++) {
		const char *s = pick(&d->v[i], key);

		if (s)
			(*out)[(*n)++] = s;
	}
	qsort(*out, *n, sizeof(**out), cmp_str);
	return 0;
}

static const char *instance_of(const struct declared_entry *e, const char *iface)
{
	size_t len = strlen(iface);

	return strncmp(e->name, iface, len) == 0 && e->name[len] == '/' ? e->name + len + 1 : NULL;
}

static const char *name_in_apex(const struct declared_entry *e, const char *apex)
{
	return e->apex && strcmp(e->apex, apex) == 0 ? e->name : NULL;
}

int declared_instances(const struct declared *d, const char *iface, const char ***out, size_t *n)
{
	return collect(d, iface, instance_of, out, n);
}

int declared_in_apex(const struct declared *d, const char *apex, const char ***out, size_t *n)
{
	return collect(d, apex, name_in_apex, out, n);
}
