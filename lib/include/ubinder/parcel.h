/* SPDX-License-Identifier: MIT */
/*
 * Parcels: the payload of a Binder transaction, in Android's Parcel wire
 * encoding.
 *
 * Encoding (little-endian, as on the machine; every value starts on a 4-byte
 * boundary and is padded with zeros to the next one):
 *
 *   int32, uint32, bool, float   4 bytes (bool is an int32: 0 or 1)
 *   int64, uint64, double        8 bytes (4-byte aligned, as Android writes them)
 *   byte array                   int32 length (-1 for NULL), the bytes
 *   String8 (UTF-8)              int32 length in bytes (-1 for NULL), the bytes, a NUL
 *   String16 (UTF-16)            int32 length in code units (-1 for NULL), the
 *                                units, a NUL unit
 *   strong binder                a 24-byte struct flat_binder_object, recorded in
 *                                the offsets array, then an int32 stability level
 *                                (as libbinder writes it); NULL is a
 *                                BINDER_TYPE_BINDER object of zeros, not recorded
 *   file descriptor              a 24-byte BINDER_TYPE_FD object, recorded
 *
 * A parcel is written from the start and read from its current position.
 * Reading past the end returns UBINDER_ERR_NOT_ENOUGH_DATA; reading a value
 * where an object is (or an object where plain data is) returns
 * UBINDER_ERR_BAD_TYPE; neither moves the position. Nothing a peer sends can
 * make a read misbehave.
 *
 * A parcel is used by one thread at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ubinder_parcel ubinder_parcel;
typedef struct ubinder_binder ubinder_binder;
typedef struct ubinder_weak ubinder_weak;

/* A new, empty parcel; NULL when out of memory. */
ubinder_parcel *ubinder_parcel_new(void);

/*
 * Frees @p (NULL is allowed). For a parcel that came from the driver (a reply,
 * or a request given to a handler) this also returns its buffer to the driver
 * and closes the descriptors it carried.
 */
void ubinder_parcel_free(ubinder_parcel *p);

/* --- writing ---------------------------------------------------------------
 * Each appends at the current position and moves it past the value; returns
 * 0, UBINDER_ERR_NO_MEMORY, or UBINDER_ERR_INVALID_OPERATION for a parcel
 * received from the driver (those are read-only). */
int ubinder_parcel_write_int32(ubinder_parcel *p, int32_t v);
int ubinder_parcel_write_uint32(ubinder_parcel *p, uint32_t v);
int ubinder_parcel_write_int64(ubinder_parcel *p, int64_t v);
int ubinder_parcel_write_uint64(ubinder_parcel *p, uint64_t v);
int ubinder_parcel_write_bool(ubinder_parcel *p, bool v);
int ubinder_parcel_write_float(ubinder_parcel *p, float v);
int ubinder_parcel_write_double(ubinder_parcel *p, double v);
/* @data may be NULL with @len 0: a NULL array (length -1). */
int ubinder_parcel_write_byte_array(ubinder_parcel *p, const void *data, size_t len);
/* A NUL-terminated UTF-8 string as a String8; NULL writes a NULL string.
 * Invalid UTF-8 is UBINDER_ERR_BAD_VALUE. */
int ubinder_parcel_write_string8(ubinder_parcel *p, const char *s);
/* @len UTF-16 code units as a String16; NULL writes a NULL string. */
int ubinder_parcel_write_string16(ubinder_parcel *p, const uint16_t *s, size_t len);
/* A NUL-terminated UTF-8 string converted to a String16, as AIDL sends a
 * String; NULL writes a NULL string. Invalid UTF-8 is UBINDER_ERR_BAD_VALUE. */
int ubinder_parcel_write_string16_utf8(ubinder_parcel *p, const char *s);
/* A strong reference to @binder (local or remote; NULL writes a null
 * binder). The parcel holds a reference to @binder until it is freed. */
int ubinder_parcel_write_binder(ubinder_parcel *p, ubinder_binder *binder);
/* A weak reference (libbinder's writeWeakBinder): a BINDER_TYPE_WEAK_BINDER
 * for a local object, a BINDER_TYPE_WEAK_HANDLE for a remote one, with no
 * stability word; NULL writes a null binder. The receiver holds it weakly
 * (ubinder_weak_promote). The parcel holds a weak reference until freed. */
int ubinder_parcel_write_weak_binder(ubinder_parcel *p, ubinder_weak *weak);
/* A file descriptor: the parcel keeps a duplicate of @fd (closed when the
 * parcel is freed); the receiver gets its own descriptor for the same file.
 * A bad @fd is UBINDER_ERR_BAD_VALUE. */
int ubinder_parcel_write_fd(ubinder_parcel *p, int fd);

/* --- reading ---------------------------------------------------------------
 * Each reads at the current position and moves past the value; on error the
 * position does not move and *out is untouched. */
int ubinder_parcel_read_int32(ubinder_parcel *p, int32_t *out);
int ubinder_parcel_read_uint32(ubinder_parcel *p, uint32_t *out);
int ubinder_parcel_read_int64(ubinder_parcel *p, int64_t *out);
int ubinder_parcel_read_uint64(ubinder_parcel *p, uint64_t *out);
int ubinder_parcel_read_bool(ubinder_parcel *p, bool *out);
int ubinder_parcel_read_float(ubinder_parcel *p, float *out);
int ubinder_parcel_read_double(ubinder_parcel *p, double *out);
/* *data points into the parcel (valid until it is freed); NULL for a NULL array. */
int ubinder_parcel_read_byte_array(ubinder_parcel *p, const void **data, size_t *len);
/* *s points into the parcel, NUL-terminated; NULL for a NULL string. A
 * missing terminator or invalid UTF-8 is UBINDER_ERR_BAD_VALUE. */
int ubinder_parcel_read_string8(ubinder_parcel *p, const char **s);
/* *s points into the parcel (*len units plus a NUL unit); NULL for a NULL string. */
int ubinder_parcel_read_string16(ubinder_parcel *p, const uint16_t **s, size_t *len);
/* A String16 converted to a new NUL-terminated UTF-8 string (free() it);
 * NULL for a NULL string. Unpaired surrogates are UBINDER_ERR_BAD_VALUE. */
int ubinder_parcel_read_string16_utf8(ubinder_parcel *p, char **s);
/* A new reference to the binder (ubinder_binder_unref() it); NULL for a null
 * binder. A remote one is a proxy, a local one is the object itself. */
int ubinder_parcel_read_binder(ubinder_parcel *p, ubinder_binder **binder);
/* A new weak reference (ubinder_weak_unref() it) to the binder there: a weak
 * one, or a strong one (as ubinder_parcel_read_binder reads it); NULL for a
 * null binder. ubinder_parcel_read_binder() refuses weak ones
 * (UBINDER_ERR_BAD_TYPE), as libbinder's readStrongBinder does. */
int ubinder_parcel_read_weak_binder(ubinder_parcel *p, ubinder_weak **weak);
/* The descriptor, owned by the parcel (closed when it is freed): dup() it to
 * keep it. */
int ubinder_parcel_read_fd(ubinder_parcel *p, int *fd);

/* --- Android interface headers ------------------------------------------- */

/*
 * The generations of the interface token libbinder writes first in every
 * AIDL call (Parcel::writeInterfaceToken), each followed by the descriptor
 * as a String16:
 *   UBINDER_HEADER_STRICT_MODE  int32 strict-mode policy (Android 9 and before)
 *   UBINDER_HEADER_WORK_SOURCE  then int32 work-source uid, -1 (Android 10)
 *   UBINDER_HEADER_SYST         then int32 'SYST' ('VNDR' on vndbinder)
 *                               (Android 11 and later)
 * The generation also fixes how binders travel: since Android 11 an int32
 * stability level follows each flat_binder_object; before, nothing does.
 */
enum ubinder_header_generation {
	UBINDER_HEADER_STRICT_MODE = 1,
	UBINDER_HEADER_WORK_SOURCE = 2,
	UBINDER_HEADER_SYST = 3,
};

/* The current generation's token (UBINDER_HEADER_SYST). */
int ubinder_parcel_write_interface_token(ubinder_parcel *p, const char *descriptor);
/* The token of @generation; also sets the parcel's binder format to it
 * (ubinder_parcel_set_stability_word). UBINDER_ERR_BAD_VALUE for an unknown
 * generation. */
int ubinder_parcel_write_interface_token_gen(ubinder_parcel *p, const char *descriptor,
					     int generation);
/* Reads a current-generation token; UBINDER_ERR_BAD_TYPE if it is missing,
 * of another generation or names another interface (the position then does
 * not move). */
int ubinder_parcel_enforce_interface(ubinder_parcel *p, const char *descriptor);
/*
 * Reads a token of @generation, or of any generation if @generation is 0,
 * and sets the parcel's binder format to the one found (*found, may be
 * NULL). UBINDER_ERR_BAD_TYPE as above; *found is then
 * UBINDER_HEADER_SYST if the third word is 'SYST' or 'VNDR', else 0.
 */
int ubinder_parcel_enforce_interface_gen(ubinder_parcel *p, const char *descriptor, int generation,
					 int *found);
/*
 * Whether binders in @p are written and read with the stability word of
 * Android 11 and later (the default) or without it (Android 10 and before,
 * and HIDL).
 */
void ubinder_parcel_set_stability_word(ubinder_parcel *p, bool on);

/* AIDL exception codes of a reply's status header. */
enum ubinder_exception {
	UBINDER_EX_NONE = 0,
	UBINDER_EX_SECURITY = -1,
	UBINDER_EX_BAD_PARCELABLE = -2,
	UBINDER_EX_ILLEGAL_ARGUMENT = -3,
	UBINDER_EX_NULL_POINTER = -4,
	UBINDER_EX_ILLEGAL_STATE = -5,
	UBINDER_EX_NETWORK_MAIN_THREAD = -6,
	UBINDER_EX_UNSUPPORTED_OPERATION = -7,
	UBINDER_EX_SERVICE_SPECIFIC = -8,
	UBINDER_EX_PARCELABLE = -9,
	UBINDER_EX_TRANSACTION_FAILED = -129,
};

/* AIDL reply header: int32 @exception; unless UBINDER_EX_NONE, a String16
 * @message (may be NULL) and an int32 0 (no stack trace), then for
 * UBINDER_EX_SERVICE_SPECIFIC an int32 0 (the service-specific code). */
int ubinder_parcel_write_exception(ubinder_parcel *p, int32_t exception, const char *message);
/* Reads an AIDL reply header. Returns 0 for UBINDER_EX_NONE, else a status
 * for the exception (UBINDER_EX_SECURITY: UBINDER_ERR_PERMISSION_DENIED,
 * UBINDER_EX_ILLEGAL_ARGUMENT: UBINDER_ERR_BAD_VALUE, ...) or a parcel
 * error. *exception (may be NULL) receives the raw code. */
int ubinder_parcel_read_exception(ubinder_parcel *p, int32_t *exception);

/* --- position and raw view ------------------------------------------------ */

/* Bytes of data in the parcel. */
size_t ubinder_parcel_get_size(const ubinder_parcel *p);
/* The read/write position. */
size_t ubinder_parcel_get_position(const ubinder_parcel *p);
/* Moves the position; UBINDER_ERR_BAD_INDEX beyond the size or not a
 * multiple of 4. Writing after moving back may not overwrite an object. */
int ubinder_parcel_set_position(ubinder_parcel *p, size_t pos);
/* The raw data (read-only view), ubinder_parcel_get_size() bytes. */
const void *ubinder_parcel_get_data(const ubinder_parcel *p);

enum ubinder_object_kind {
	UBINDER_OBJECT_BINDER = 1, /* a local object (BINDER_TYPE_BINDER) */
	UBINDER_OBJECT_HANDLE = 2, /* a remote object (BINDER_TYPE_HANDLE) */
	UBINDER_OBJECT_FD = 3,	   /* a file descriptor (BINDER_TYPE_FD) */
	UBINDER_OBJECT_OTHER = 4,  /* weak binders, scatter-gather buffers, fd arrays */
};

/* Objects recorded in the offsets array. */
size_t ubinder_parcel_get_object_count(const ubinder_parcel *p);
/* The @index-th object's data offset and kind; UBINDER_ERR_BAD_INDEX past the count. */
int ubinder_parcel_get_object(const ubinder_parcel *p, size_t index, size_t *offset,
			      enum ubinder_object_kind *kind);

#ifdef __cplusplus
}
#endif
