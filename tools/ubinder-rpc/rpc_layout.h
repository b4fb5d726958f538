/* SPDX-License-Identifier: MIT */
/*
 * Where binders sit in the parcels of an interface (docs/rpc.md, "Why a
 * bridge needs interface descriptions"). In RPC form a binder is an inline
 * i32 and u64 that no object table lists, so the bridge translates a parcel
 * that carries one only by the layout of its interface and code: the fields
 * up to the last object, after which the rest of the parcel is plain data.
 *
 * A layout file has one line per transaction, '#' starts a comment:
 *   DESCRIPTOR CODE request|reply FIELD...
 * FIELD is i32, i64, str16, status (an AIDL reply header: anything but
 * EX_NONE ends the layout), binder or binder:DESCRIPTOR (the interface of
 * the object there, for the stand-in made for it), or fd.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rpc_field {
	RPC_FIELD_I32 = 1,
	RPC_FIELD_I64,
	RPC_FIELD_STR16,
	RPC_FIELD_STATUS,
	RPC_FIELD_BINDER,
	RPC_FIELD_FD,
};

/* At most this many fields in one layout (the rest of a parcel is data). */
#define RPC_LAYOUT_MAX_FIELDS 16

struct rpc_layout {
	char *descriptor;
	uint32_t code;
	bool reply;
	unsigned nfields;
	enum rpc_field fields[RPC_LAYOUT_MAX_FIELDS];
	/* For a binder field, the interface of the object there (or NULL). */
	char *binder_descriptor[RPC_LAYOUT_MAX_FIELDS];
};

struct rpc_layouts;

/* The built-in layouts: kvstore's watch and IServiceManager's
 * getService, checkService and addService. NULL if out of memory. */
struct rpc_layouts *rpc_layouts_new(void);
void rpc_layouts_free(struct rpc_layouts *l);

/*
 * Adds the layouts of the text @text (a file's contents). Returns 0, or the
 * 1-based number of the first line it cannot read, after which nothing of
 * @text is added; -1 if out of memory.
 */
int rpc_layouts_parse(struct rpc_layouts *l, const char *text);

/* The layout of @code of @descriptor's requests (or replies), or NULL. */
const struct rpc_layout *rpc_layouts_find(const struct rpc_layouts *l, const char *descriptor,
					  uint32_t code, bool reply);
