/* SPDX-License-Identifier: MIT */
/* Internal: UTF-8 and UTF-16 conversions for parcels' strings. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Validates UTF-8 (no overlongs, surrogates or code points above U+10FFFF). */
bool utf8_valid(const char *s, size_t len);
/* UTF-8 -> UTF-16; @out may be NULL to count. Returns the units, or -1 if invalid. */
long utf8_to_utf16(const char *s, size_t len, uint16_t *out);
/* UTF-16 -> UTF-8; @out may be NULL to count. Returns the bytes, or -1 for an
 * unpaired surrogate. */
long utf16_to_utf8(const uint16_t *s, size_t len, char *out);
