/* SPDX-License-Identifier: MIT */
/*
 * Declared instances: what Android reads from the VINTF manifest, read here
 * from the file given with --declared (docs/tools.md describes its format).
 */
#pragma once

#include <stddef.h>

struct declared_entry {
	char *name; /* a fully qualified instance: "package.IFoo/instance" */
	char *apex; /* the APEX it is updatable through, or NULL */
};

struct declared;

/* Reads @path; NULL (with a one-line message on stderr) if it cannot be
 * read or a line is malformed. */
struct declared *declared_load(const char *path);
void declared_free(struct declared *d);

/* The entry named @name; NULL if none (or @d is NULL: nothing declared). */
const struct declared_entry *declared_find(const struct declared *d, const char *name);
/* The instance parts of the names "@iface/instance", sorted; *out points
 * into @d (free() the array only). */
int declared_instances(const struct declared *d, const char *iface, const char ***out, size_t *n);
/* The names updatable through @apex, sorted; as above. */
int declared_in_apex(const struct declared *d, const char *apex, const char ***out, size_t *n);
