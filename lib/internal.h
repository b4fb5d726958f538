/* SPDX-License-Identifier: MIT */
/*
 * libubinder internals, every module's header: for the library's tests and
 * fuzz targets, which reach into most of them. Not installed. The library's
 * own files include the headers of the modules they use; each header says
 * what its module owns, and context.h states the locking.
 */
#pragma once

#include "context.h"
#include "context_ref.h"
#include "default_transactions.h"
#include "deferred_free.h"
#include "fork.h"
#include "ipc.h"
#include "object.h"
#include "object_ref.h"
#include "outbox.h"
#include "parcel.h"
#include "parcel_sg.h"
#include "pool.h"
#include "secctx.h"
#include "status.h"
#include "thread.h"
#include "utf.h"
