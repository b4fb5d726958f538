/* SPDX-License-Identifier: MIT */
/* Binder descriptors that survive exec: the state an exec'd image inherits. */
#pragma once

#include "bfile.h"

/* Rewrites what an exec'd image inherits after a change of the program's
 * non-close-on-exec Binder descriptors. Under g_lock. */
void handoff_update(void);
/* In a new image: takes over the Binder files the old image left open. */
void handoff_restore(void);
/* What bfile.c calls on changes handoff follows (bfile_init). */
extern const struct bfile_hooks handoff_bfile_hooks;
