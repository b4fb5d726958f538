/* SPDX-License-Identifier: MIT */
/*
 * The service manager client: named services in a context.
 *
 * The service manager (ubinder-servicemanager, or any context manager that
 * speaks Android's service manager protocol) is the object at handle 0.
 * docs/api.md lists the transactions. Names are 1 to 127 characters of
 * [A-Za-z0-9._/-].
 */
#pragma once

#include <stddef.h>

#include "ubinder/binder.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UBINDER_SM_DESCRIPTOR	       "android.os.IServiceManager"
#define UBINDER_SM_CALLBACK_DESCRIPTOR "android.os.IServiceCallback"

/*
 * The Android API level whose service manager protocol the context's calls
 * speak: its interface token, transaction codes and reply formats. 30 to 36
 * are the AIDL IServiceManager of Android 11 to 16; 28 and 29 are the
 * servicemanager of Android 9 and 10 (raw replies; no notifications, so
 * waiting for a service asks again every 50 ms). Default (0):
 * UBINDER_SM_API_LEVEL_DEFAULT, the codes Android 11 to 14 share, which
 * ubinder-servicemanager reads without options. UBINDER_ERR_BAD_VALUE
 * outside 28 to 36; a method the level does not have is
 * UBINDER_ERR_INVALID_OPERATION.
 */
#define UBINDER_SM_API_LEVEL_DEFAULT 34
int ubinder_sm_set_api_level(ubinder_context *ctx, int api_level);
/* The level in use (UBINDER_SM_API_LEVEL_DEFAULT unless set). */
int ubinder_sm_get_api_level(ubinder_context *ctx);

/* The context manager's object (handle 0). UBINDER_ERR_DEAD_OBJECT when
 * there is none (no service manager is running). */
int ubinder_sm_get(ubinder_context *ctx, ubinder_binder **out);

/* Registers @service (a local object) under @name. A name held by a living
 * service of another user is UBINDER_ERR_PERMISSION_DENIED; the same user
 * replaces it. */
int ubinder_sm_add_service(ubinder_context *ctx, const char *name, ubinder_binder *service);

/* The service registered as @name, now; UBINDER_ERR_NAME_NOT_FOUND if none. */
int ubinder_sm_check_service(ubinder_context *ctx, const char *name, ubinder_binder **out);

/*
 * Waits up to @timeout_ms (-1: forever) for @name to be registered; returns
 * at once if it is. Uses a registration notification, which needs someone
 * to read incoming work: a thread pool if one runs, or else this call does it
 * on the calling thread. A service manager that is not running yet is
 * waited for too. UBINDER_ERR_TIMED_OUT, or UBINDER_ERR_DEAD_OBJECT if the
 * service manager dies meanwhile.
 */
int ubinder_sm_wait_for_service(ubinder_context *ctx, const char *name, int timeout_ms,
				ubinder_binder **out);

/* The registered names, sorted: a NULL-terminated array to free with
 * ubinder_sm_free_names(). *count (may be NULL) receives their number. */
int ubinder_sm_list_services(ubinder_context *ctx, char ***names, size_t *count);
void ubinder_sm_free_names(char **names);

/*
 * Calls @fn(name, service, userdata) each time @name is registered, and
 * once at once if it already is (on the thread that reads the notification).
 * *token identifies the registration for ubinder_sm_unregister_notification();
 * it is a local object: unref it after unregistering.
 */
typedef void (*ubinder_sm_notify_fn)(const char *name, ubinder_binder *service, void *userdata);
int ubinder_sm_register_notification(ubinder_context *ctx, const char *name,
				     ubinder_sm_notify_fn fn, void *userdata,
				     ubinder_binder **token);
int ubinder_sm_unregister_notification(ubinder_context *ctx, const char *name,
				       ubinder_binder *token);

#ifdef __cplusplus
}
#endif
