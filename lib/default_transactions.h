/* SPDX-License-Identifier: MIT */
/*
 * The transactions every local object answers as Android's default binder
 * does (PING, INTERFACE, DUMP, SHELL_COMMAND, SYSPROPS, EXTENSION, DEBUG_PID).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ubinder/ubinder.h"

/* Answers @call if its code is one of them (*status: the outcome); false if not. */
bool default_transaction(struct ubinder_binder *obj, const struct ubinder_call *call,
			 struct ubinder_parcel *data, struct ubinder_parcel *reply, int *status);
