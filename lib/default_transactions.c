/* SPDX-License-Identifier: MIT */
/*
 * The transactions every local object answers as Android's default binder
 * (libbinder's BBinder) does: ubinder/binder.h lists them.
 */
#include <stdlib.h>
#include <unistd.h>

#include "context.h"
#include "default_transactions.h"
#include "object.h"

/* IResultReceiver (com.android.internal.os): oneway send(int32 code, Bundle). */
#define RESULT_RECEIVER_DESCRIPTOR "com.android.internal.os.IResultReceiver"
#define RESULT_RECEIVER_SEND	   1
/* At most this many arguments are read from a DUMP or SHELL_COMMAND. */
#define MAX_ARGS		   256

/* int32 argc, then String16 arguments while data remains (as libbinder
 * reads them); NULL-terminated, free with free_args(). */
static char **read_args(ubinder_parcel *data, size_t *n)
{
	int32_t argc = 0;
	char **args;

	*n = 0;
	if (ubinder_parcel_read_int32(data, &argc) || argc < 0)
		argc = 0;
	if (argc > MAX_ARGS)
		argc = MAX_ARGS;
	args = calloc((size_t)argc + 1, sizeof(*args));
	for (int32_t i = 0; args && i < argc; i++) {
		char *s = NULL;

		if (ubinder_parcel_read_string16_utf8(data, &s))
			break;
		args[(*n)++] = s ? s : calloc(1, 1);
		if (!args[*n - 1]) {
			(*n)--;
			break;
		}
	}
	return args;
}

static void free_args(char **args, size_t n)
{
	for (size_t i = 0; args && i < n; i++)
		free(args[i]);
	free(args);
}

static int do_dump(struct ubinder_binder *obj, ubinder_parcel *data)
{
	ubinder_dump_fn fn;
	int fd = -1, err = 0;
	char **args;
	size_t n;

	pthread_mutex_lock(&obj->ctx->lock);
	fn = obj->dump;
	pthread_mutex_unlock(&obj->ctx->lock);
	if (!fn)
		return 0; /* BBinder::dump(): nothing to say */
	if (ubinder_parcel_read_fd(data, &fd))
		fd = -1;
	args = read_args(data, &n);
	if (!args)
		return UBINDER_ERR_NO_MEMORY;
	err = fn(obj, fd, (const char *const *)args, n, obj->userdata);
	free_args(args, n);
	return err;
}

/* No shell commands here: the result receiver learns INVALID_OPERATION. */
static int do_shell_command(ubinder_parcel *data)
{
	ubinder_binder *callback = NULL, *receiver = NULL;
	ubinder_parcel *msg;
	char **args;
	size_t n;
	int fd;

	for (int i = 0; i < 3; i++)
		(void)ubinder_parcel_read_fd(data, &fd); /* in, out, err: unused */
	args = read_args(data, &n);
	free_args(args, n);
	if (ubinder_parcel_read_binder(data, &callback) == 0)
		(void)ubinder_parcel_read_binder(data, &receiver);
	ubinder_binder_unref(callback);
	if (!receiver)
		return 0;
	msg = ubinder_parcel_new();
	if (msg && !ubinder_parcel_write_interface_token(msg, RESULT_RECEIVER_DESCRIPTOR) &&
	    !ubinder_parcel_write_int32(msg, UBINDER_ERR_INVALID_OPERATION) &&
	    !ubinder_parcel_write_int32(msg, 0)) /* no Bundle */
		(void)ubinder_binder_transact(receiver, RESULT_RECEIVER_SEND, msg,
					      UBINDER_FLAG_ONEWAY, NULL);
	ubinder_parcel_free(msg);
	ubinder_binder_unref(receiver);
	return 0;
}

static int do_extension(struct ubinder_binder *obj, ubinder_parcel *reply)
{
	struct ubinder_binder *ext;
	int err;

	pthread_mutex_lock(&obj->ctx->lock);
	ext = obj->extension;
	if (ext)
		ext->refs++;
	pthread_mutex_unlock(&obj->ctx->lock);
	err = reply ? ubinder_parcel_write_binder(reply, ext) : 0;
	ubinder_binder_unref(ext);
	return err;
}

bool default_transaction(struct ubinder_binder *obj, const struct ubinder_call *call,
			 struct ubinder_parcel *data, struct ubinder_parcel *reply, int *status)
{
	switch (call->code) {
	case UBINDER_PING_TRANSACTION:
	case UBINDER_SYSPROPS_TRANSACTION:
		*status = 0;
		return true;
	case UBINDER_INTERFACE_TRANSACTION:
		*status = reply ? ubinder_parcel_write_string16_utf8(reply, obj->descriptor) : 0;
		return true;
	case UBINDER_DEBUG_PID_TRANSACTION:
		*status = reply ? ubinder_parcel_write_int32(reply, (int32_t)getpid()) : 0;
		return true;
	case UBINDER_EXTENSION_TRANSACTION:
		*status = do_extension(obj, reply);
		return true;
	case UBINDER_DUMP_TRANSACTION:
		*status = do_dump(obj, data);
		return true;
	case UBINDER_SHELL_COMMAND_TRANSACTION:
		*status = do_shell_command(data);
		return true;
	default:
		return false;
	}
}

int ubinder_binder_set_dump_handler(ubinder_binder *b, ubinder_dump_fn fn)
{
	if (!b || !b->local)
		return UBINDER_ERR_INVALID_OPERATION;
	pthread_mutex_lock(&b->ctx->lock);
	b->dump = fn;
	pthread_mutex_unlock(&b->ctx->lock);
	return 0;
}

int ubinder_binder_set_extension(ubinder_binder *b, ubinder_binder *extension)
{
	struct ubinder_binder *old;

	if (!b || !b->local || b == extension)
		return UBINDER_ERR_INVALID_OPERATION;
	if (extension && extension->ctx != b->ctx)
		return UBINDER_ERR_WRONG_CONTEXT;
	ubinder_binder_ref(extension);
	pthread_mutex_lock(&b->ctx->lock);
	old = b->extension;
	b->extension = extension;
	pthread_mutex_unlock(&b->ctx->lock);
	ubinder_binder_unref(old);
	return 0;
}
