/* SPDX-License-Identifier: MIT */
/*
 * The interface token libbinder's Parcel::writeInterfaceToken() writes
 * first in every AIDL call, in each of its generations (parcel.h), and the
 * reading of it that recognises the generation a caller speaks.
 */
#include <stdlib.h>
#include <string.h>

#include "parcel.h"

/* The strict-mode "gather" bit: (0x40 << 16) up to Android 9, (1 << 31) since 10. */
#define STRICT_MODE_GATHER_OLD 0x00400000u
/* The third word of an Android 11+ token on /dev/vndbinder. */
#define UB_VENDOR_HEADER       UBINDER_PACK_CHARS('V', 'N', 'D', 'R')

int ubinder_parcel_write_interface_token_gen(ubinder_parcel *p, const char *descriptor,
					     int generation)
{
	size_t start;
	int err;

	if (!p || generation < UBINDER_HEADER_STRICT_MODE || generation > UBINDER_HEADER_SYST)
		return UBINDER_ERR_BAD_VALUE;
	start = ubinder_parcel_get_position(p);
	err = ubinder_parcel_write_uint32(p, generation == UBINDER_HEADER_STRICT_MODE
						     ? STRICT_MODE_GATHER_OLD
						     : UB_STRICT_MODE_PENALTY_GATHER);
	if (!err && generation >= UBINDER_HEADER_WORK_SOURCE)
		err = ubinder_parcel_write_int32(p, -1); /* no work source */
	if (!err && generation == UBINDER_HEADER_SYST)
		err = ubinder_parcel_write_uint32(p, UB_INTERFACE_HEADER);
	if (!err)
		err = ubinder_parcel_write_string16_utf8(p, descriptor ? descriptor : "");
	if (err) {
		ubinder_parcel_set_position(p, start);
		return err;
	}
	ubinder_parcel_set_stability_word(p, generation == UBINDER_HEADER_SYST);
	return 0;
}

int ubinder_parcel_write_interface_token(ubinder_parcel *p, const char *descriptor)
{
	return ubinder_parcel_write_interface_token_gen(p, descriptor, UBINDER_HEADER_SYST);
}

/* The 32-bit word @index words after @start, if the parcel has it. */
static bool word_at(const ubinder_parcel *p, size_t start, size_t index, uint32_t *out)
{
	size_t off = start + index * 4;

	if (off + 4 > ubinder_parcel_get_size(p))
		return false;
	memcpy(out, (const uint8_t *)ubinder_parcel_get_data(p) + off, 4);
	return true;
}

/* Reads a token of @generation at @start naming @descriptor; 0 or BAD_TYPE. */
static int read_token(ubinder_parcel *p, size_t start, const char *descriptor, int generation)
{
	uint32_t header;
	char *name = NULL;
	int err;

	if (generation == UBINDER_HEADER_SYST &&
	    (!word_at(p, start, 2, &header) ||
	     (header != UB_INTERFACE_HEADER && header != UB_VENDOR_HEADER)))
		return UBINDER_ERR_BAD_TYPE;
	err = ubinder_parcel_set_position(p, start + 4 * (size_t)generation);
	if (!err)
		err = ubinder_parcel_read_string16_utf8(p, &name);
	if (!err && (!name || strcmp(name, descriptor) != 0))
		err = UBINDER_ERR_BAD_TYPE;
	free(name);
	if (err == UBINDER_ERR_NO_MEMORY)
		return err;
	return err ? UBINDER_ERR_BAD_TYPE : 0;
}

int ubinder_parcel_enforce_interface_gen(ubinder_parcel *p, const char *descriptor, int generation,
					 int *found)
{
	/* The most specific first: 'SYST' cannot be a string length, and a
	 * work-source word followed by the descriptor fails the strict-mode
	 * reading's comparison. */
	static const int order[] = { UBINDER_HEADER_SYST, UBINDER_HEADER_STRICT_MODE,
				     UBINDER_HEADER_WORK_SOURCE };
	size_t start;
	uint32_t third;
	int err = UBINDER_ERR_BAD_TYPE;

	if (found)
		*found = 0;
	if (!p || generation < 0 || generation > UBINDER_HEADER_SYST)
		return UBINDER_ERR_BAD_VALUE;
	if (!descriptor)
		descriptor = "";
	start = ubinder_parcel_get_position(p);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (generation && order[i] != generation)
			continue;
		err = read_token(p, start, descriptor, order[i]);
		if (!err) {
			ubinder_parcel_set_stability_word(p, order[i] == UBINDER_HEADER_SYST);
			if (found)
				*found = order[i];
			return 0;
		}
		if (err == UBINDER_ERR_NO_MEMORY)
			break;
	}
	ubinder_parcel_set_position(p, start);
	if (found && word_at(p, start, 2, &third) &&
	    (third == UB_INTERFACE_HEADER || third == UB_VENDOR_HEADER))
		*found = UBINDER_HEADER_SYST;
	return err;
}

int ubinder_parcel_enforce_interface(ubinder_parcel *p, const char *descriptor)
{
	return ubinder_parcel_enforce_interface_gen(p, descriptor, UBINDER_HEADER_SYST, NULL);
}
