/* SPDX-License-Identifier: MIT */
/*
 * HIDL: Android's hardware interfaces, as spoken on /dev/hwbinder (the
 * "hwbinder" context), and the scatter-gather parcel encoding they use.
 *
 * Scatter-gather buffers. Besides its data, a parcel may carry buffers
 * (BINDER_TYPE_PTR objects): the driver copies each into the receiver and
 * rewrites the object's pointer. A buffer may have a parent, an earlier
 * buffer: the driver then writes the child's new address into the parent's
 * copy at parent_offset (8 bytes, a pointer field). A buffer is named by its
 * handle, its index among the parcel's objects. An fd array
 * (BINDER_TYPE_FDA) names num_fds descriptor numbers inside a parent buffer:
 * the receiver gets its own descriptors written there. The writers copy the
 * bytes and duplicate the descriptors given, so the caller's need not outlive
 * the call; the readers return pointers into the received parcel, valid (and
 * fd-array descriptors open) until it is freed.
 *
 * HIDL types (layouts of libhidl's HidlSupport.h, 64-bit):
 *   hidl_string   16 bytes: pointer to the chars (with a NUL), uint32 size
 *                 (without it), bool owns-buffer, 3 pad: one buffer, the
 *                 chars another whose parent is it at offset 0;
 *   hidl_vec<T>   the same layout, size counts elements: the elements are a
 *                 child buffer (a NULL one when there are none);
 *   handle        uint64 size, then a native_handle_t buffer (int32 version
 *                 12, numFds, numInts, the fds, the ints) and an fd array of
 *                 its fds at offset 12; a null handle is the uint64 0 alone;
 *   interface     a binder object (no stability word, unlike AIDL);
 *   bool, int8    written as 4 bytes, like an int32.
 * A call starts with the interface token, the descriptor as a C string (NUL,
 * padded to 4); a reply with a status (int32 exception code: 0, or the code,
 * a String16 message and, for a service-specific one, an int32).
 *
 * Reads check what libhwbinder checks: the object at the position is the
 * buffer expected, with the expected length, flags, parent and offset, and
 * the parent's pointer field holds the child's address; strings end with
 * their NUL. A mismatch is UBINDER_ERR_BAD_VALUE (a null buffer where one
 * is required, UBINDER_ERR_UNEXPECTED_NULL) and the position does not move.
 * The driver refuses a parent at data offset 0: a HIDL call's token (a
 * reply's status) always comes first.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ubinder/binder.h"
#include "ubinder/parcel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- scatter-gather buffers and fd arrays -------------------------------------- */

/* A buffer without a parent: a copy of @len bytes of @data (NULL: a null
 * buffer). *handle (may be NULL) receives its handle. */
int ubinder_parcel_write_buffer(ubinder_parcel *p, const void *data, size_t len, size_t *handle);
/* A buffer whose address goes into buffer @parent at @parent_offset (8 bytes
 * that must fit in it). UBINDER_ERR_BAD_VALUE if @parent is not a buffer of
 * this parcel. */
int ubinder_parcel_write_embedded_buffer(ubinder_parcel *p, const void *data, size_t len,
					 size_t parent, size_t parent_offset, size_t *handle);
/* An fd array: duplicates of @fds[0..n) (owned by the parcel) are written into
 * buffer @parent at @parent_offset (4 bytes each, which must fit). */
int ubinder_parcel_write_fd_array(ubinder_parcel *p, size_t parent, size_t parent_offset,
				  const int *fds, size_t n);

/* The buffer at the position: it must be @len bytes without a parent. *data
 * is NULL for a null buffer (then *handle is SIZE_MAX). */
int ubinder_parcel_read_buffer(ubinder_parcel *p, size_t len, size_t *handle, const void **data);
/* The same for a buffer whose parent must be @parent at @parent_offset. */
int ubinder_parcel_read_embedded_buffer(ubinder_parcel *p, size_t len, size_t parent,
					size_t parent_offset, size_t *handle, const void **data);
/* The fd array at the position: @n descriptors in buffer @parent at
 * @parent_offset. *fds points at them (owned by the parcel). */
int ubinder_parcel_read_fd_array(ubinder_parcel *p, size_t parent, size_t parent_offset, size_t n,
				 const int **fds);

/* --- HIDL values ------------------------------------------------------------------- */

#define UBINDER_HIDL_STRING_SIZE 16u /* sizeof(hidl_string) */
#define UBINDER_HIDL_VEC_SIZE	 16u /* sizeof(hidl_vec<T>) */
#define UBINDER_HIDL_HANDLE_SIZE 16u /* sizeof(hidl_handle) */

/* The interface token: @descriptor as a C string. */
int ubinder_hidl_write_interface_token(ubinder_parcel *p, const char *descriptor);
/* Reads the token; UBINDER_ERR_BAD_TYPE if it is missing or another (the
 * position then does not move). */
int ubinder_hidl_enforce_interface(ubinder_parcel *p, const char *descriptor);
/* Reads the token whatever it is; *descriptor points into the parcel. */
int ubinder_hidl_read_interface_token(ubinder_parcel *p, const char **descriptor);

/* A reply's status: @exception 0 (success) or an exception code with @message. */
int ubinder_hidl_write_status(ubinder_parcel *p, int32_t exception, const char *message);
/* Reads it: 0 for success, else the status the exception stands for (as
 * ubinder_parcel_read_exception), *exception (may be NULL) the raw code. */
int ubinder_hidl_read_status(ubinder_parcel *p, int32_t *exception);

/* A hidl_string (its own buffer); NULL is written as "". Strings hold any bytes
 * but the C API passes NUL-terminated ones. */
int ubinder_hidl_write_string(ubinder_parcel *p, const char *s);
/* The chars of a hidl_string that lies in buffer @parent at @offset (a struct
 * field or a vector element): its size is set there, the chars become a child. */
int ubinder_hidl_write_embedded_string(ubinder_parcel *p, const char *s, size_t parent,
				       size_t offset);
/* *s points into the parcel (NUL-terminated, *len bytes before the NUL; @len
 * may be NULL). A string with a NUL inside is UBINDER_ERR_BAD_VALUE. */
int ubinder_hidl_read_string(ubinder_parcel *p, const char **s, size_t *len);
int ubinder_hidl_read_embedded_string(ubinder_parcel *p, size_t parent, size_t offset,
				      const char **s, size_t *len);

/* A hidl_vec of @count elements of @elem_size bytes each (copied); elements
 * with pointers inside are then written as children of *elems_handle (may be
 * NULL; SIZE_MAX when there are no elements). */
int ubinder_hidl_write_vec(ubinder_parcel *p, const void *elems, size_t count, size_t elem_size,
			   size_t *elems_handle);
/* Reads one: *elems points into the parcel (NULL when *count is 0). */
int ubinder_hidl_read_vec(ubinder_parcel *p, size_t elem_size, const void **elems, size_t *count,
			  size_t *elems_handle);
/* The same for a hidl_vec in buffer @parent at @offset. */
int ubinder_hidl_write_embedded_vec(ubinder_parcel *p, const void *elems, size_t count,
				    size_t elem_size, size_t parent, size_t offset,
				    size_t *elems_handle);
int ubinder_hidl_read_embedded_vec(ubinder_parcel *p, size_t elem_size, size_t parent,
				   size_t offset, const void **elems, size_t *count,
				   size_t *elems_handle);

/* A vec<string> of @count strings. */
int ubinder_hidl_write_string_vec(ubinder_parcel *p, const char *const *strings, size_t count);
/* Reads one into a new NULL-terminated array of new strings (free with
 * ubinder_hidl_free_strings); *count (may be NULL) receives their number. */
int ubinder_hidl_read_string_vec(ubinder_parcel *p, char ***strings, size_t *count);
void ubinder_hidl_free_strings(char **strings);

/* A native handle as a HIDL `handle` argument. @null writes a null handle. */
struct ubinder_hidl_native_handle {
	bool null;
	const int *fds; /* reading: owned by the parcel (dup() to keep) */
	size_t nfds;
	const int32_t *ints;
	size_t nints;
};
int ubinder_hidl_write_native_handle(ubinder_parcel *p, const struct ubinder_hidl_native_handle *h);
int ubinder_hidl_read_native_handle(ubinder_parcel *p, struct ubinder_hidl_native_handle *h);
/* The same for a hidl_handle in buffer @parent at @offset. */
int ubinder_hidl_write_embedded_native_handle(ubinder_parcel *p,
					      const struct ubinder_hidl_native_handle *h,
					      size_t parent, size_t offset);
int ubinder_hidl_read_embedded_native_handle(ubinder_parcel *p, size_t parent, size_t offset,
					     struct ubinder_hidl_native_handle *h);

/* An interface (a binder object, or null). The parcel holds a reference. */
int ubinder_hidl_write_binder(ubinder_parcel *p, ubinder_binder *binder);
/* A new reference (NULL for a null interface). */
int ubinder_hidl_read_binder(ubinder_parcel *p, ubinder_binder **binder);

/* --- HIDL objects: android.hidl.base@1.0::IBase ---------------------------------------- */

#define UBINDER_HIDL_BASE_DESCRIPTOR "android.hidl.base@1.0::IBase"

/* IBase's transaction codes: libhidl's reserved range, B_PACK_CHARS(0x0f, ...). */
#define UBINDER_HIDL_CODE(c2, c3, c4)			 UBINDER_PACK_CHARS(0x0f, c2, c3, c4)
#define UBINDER_HIDL_PING_TRANSACTION			 UBINDER_HIDL_CODE('P', 'N', 'G')
#define UBINDER_HIDL_DESCRIPTOR_CHAIN_TRANSACTION	 UBINDER_HIDL_CODE('C', 'H', 'N')
#define UBINDER_HIDL_GET_DESCRIPTOR_TRANSACTION		 UBINDER_HIDL_CODE('D', 'S', 'C')
#define UBINDER_HIDL_SYSPROPS_CHANGED_TRANSACTION	 UBINDER_HIDL_CODE('S', 'Y', 'S')
#define UBINDER_HIDL_LINK_TO_DEATH_TRANSACTION		 UBINDER_HIDL_CODE('L', 'T', 'D')
#define UBINDER_HIDL_UNLINK_TO_DEATH_TRANSACTION	 UBINDER_HIDL_CODE('U', 'T', 'D')
#define UBINDER_HIDL_SET_HAL_INSTRUMENTATION_TRANSACTION UBINDER_HIDL_CODE('I', 'N', 'T')
#define UBINDER_HIDL_GET_REF_INFO_TRANSACTION		 UBINDER_HIDL_CODE('R', 'E', 'F')
#define UBINDER_HIDL_DEBUG_TRANSACTION			 UBINDER_HIDL_CODE('D', 'B', 'G')
#define UBINDER_HIDL_HASH_CHAIN_TRANSACTION		 UBINDER_HIDL_CODE('H', 'S', 'H')

/* What IBase::debug() gets. */
struct ubinder_hidl_debug_args {
	int fd; /* -1 when the handle has no descriptor */
	char **options;
	size_t noptions;
};

struct ubinder_hidl_interface {
	/* Descriptors, most derived first; IBase is added at the end if missing. */
	const char *const *chain;
	size_t nchain;
	/* SHA-256 of each interface's .hal (as hidl-gen records them in
	 * current.txt), or NULL: getHashChain then answers zeros, as for an
	 * unfrozen interface. IBase's own is filled in when the chain lacks it. */
	const uint8_t (*hashes)[32];
	/* Calls with other codes (the interface's own methods, from 1). @data is
	 * positioned at the interface token: check it with
	 * ubinder_hidl_enforce_interface(). Write a status first in @reply. */
	ubinder_handler_fn handler;
	/* IBase::debug(), optional: write to args->fd. */
	void (*debug)(ubinder_binder *self, const struct ubinder_hidl_debug_args *args,
		      void *userdata);
};

/*
 * Creates a local HIDL object answering IBase: interfaceChain,
 * interfaceDescriptor, ping, getDebugInfo (pid, 0, architecture),
 * getHashChain, notifySyspropsChanged and setHALInstrumentation (oneway, no
 * effect), debug (@iface->debug or nothing). linkToDeath and unlinkToDeath
 * never reach an object: HIDL's proxies handle them through the driver
 * (ubinder_binder_link_to_death). @iface is copied. *out holds one reference.
 */
int ubinder_hidl_object_new(ubinder_context *ctx, const struct ubinder_hidl_interface *iface,
			    void *userdata, void (*destroy)(void *userdata), ubinder_binder **out);

/* --- calling any HIDL object ------------------------------------------------------------- */

int ubinder_hidl_ping(ubinder_binder *b);
/* interfaceChain(): a NULL-terminated array (ubinder_hidl_free_strings). */
int ubinder_hidl_interface_chain(ubinder_binder *b, char ***chain, size_t *count);
/* interfaceDescriptor(): a new string (free() it). */
int ubinder_hidl_interface_descriptor(ubinder_binder *b, char **descriptor);

enum ubinder_hidl_arch {
	UBINDER_HIDL_ARCH_UNKNOWN = 0,
	UBINDER_HIDL_ARCH_64BIT = 1,
	UBINDER_HIDL_ARCH_32BIT = 2,
};
struct ubinder_hidl_debug_info {
	int32_t pid;
	uint64_t ptr;
	int32_t arch; /* enum ubinder_hidl_arch */
};
int ubinder_hidl_get_debug_info(ubinder_binder *b, struct ubinder_hidl_debug_info *info);
/* getHashChain(): *hashes (free() it) holds *count hashes of 32 bytes. */
int ubinder_hidl_get_hash_chain(ubinder_binder *b, uint8_t (**hashes)[32], size_t *count);
/* Oneway. */
int ubinder_hidl_notify_syspropschanged(ubinder_binder *b);
int ubinder_hidl_set_hal_instrumentation(ubinder_binder *b);
/* debug(fd, options): @fd may be -1 (a null handle). */
int ubinder_hidl_debug(ubinder_binder *b, int fd, const char *const *options, size_t noptions);

/* --- the HIDL service manager ---------------------------------------------------------
 * android.hidl.manager@1.0::IServiceManager at handle 0 of a hwbinder context
 * (ubinder-hwservicemanager, or Android's hwservicemanager). Instances are an
 * interface name (fqName, "android.hardware.foo@1.0::IFoo") and a name. */

/* Registers @service (a HIDL object) as @name under every interface of its
 * chain. UBINDER_ERR_PERMISSION_DENIED when the manager says no. */
int ubinder_hidl_sm_add(ubinder_context *ctx, const char *name, ubinder_binder *service);
/* The service registered as @fqname/@name; UBINDER_ERR_NAME_NOT_FOUND if none. */
int ubinder_hidl_sm_get(ubinder_context *ctx, const char *fqname, const char *name,
			ubinder_binder **out);
/* "fqName/name" of every registered instance (ubinder_hidl_free_strings). */
int ubinder_hidl_sm_list(ubinder_context *ctx, char ***names, size_t *count);

/* --- for service managers ------------------------------------------------------------- */

/*
 * The driver's counts of the node behind a remote object: strong references
 * held by processes (this one's included) and the owner's weak ones. Only
 * the context manager may ask (UBINDER_ERR_PERMISSION_DENIED otherwise); a
 * local object is UBINDER_ERR_INVALID_OPERATION.
 */
int ubinder_binder_get_node_counts(ubinder_binder *b, uint32_t *strong, uint32_t *weak);

#ifdef __cplusplus
}
#endif
