/* SPDX-License-Identifier: MIT */
/* Internal: status codes from transport errors, and the diagnostics log. */
#pragma once

#include "ubinder/status.h"

/* The status for a transport error (-errno), as libubinder reports it. */
int status_from_errno(int err);

/* Diagnostics to stderr when $UBINDER_DEBUG is set; the library is otherwise silent. */
void ub_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
