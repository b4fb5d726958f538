/* SPDX-License-Identifier: MIT */
/*
 * Example HIDL service and client on a hwbinder context:
 *
 *   package vendor.ubinder.example@1.0;
 *   interface IEcho {
 *       echo(string text) generates (string text);      // code 1
 *   };
 *
 *   hidl-echo serve [INSTANCE]          registers IEcho/INSTANCE (default
 *                                       "default") and serves until SIGTERM
 *   hidl-echo call [INSTANCE] TEXT      gets it from the service manager,
 *                                       shows its IBase answers, calls echo
 *   hidl-echo list                      the service manager's instances
 *
 * Run: ubinderd -c binder -c hwbinder, ubinder-hwservicemanager, then this.
 * The socket is $UBINDER_SOCKET, else the hwbinder context's default one.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ubinder/ubinder.h>

#define ECHO_FQNAME "vendor.ubinder.example@1.0::IEcho"
#define ECHO_CODE   1

static int echo_handler(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
			ubinder_parcel *reply, void *userdata)
{
	const char *text;
	int err;

	(void)self;
	(void)userdata;
	if (call->code != ECHO_CODE)
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	err = ubinder_hidl_enforce_interface(data, ECHO_FQNAME);
	if (!err)
		err = ubinder_hidl_read_string(data, &text, NULL);
	if (!err)
		err = ubinder_hidl_write_status(reply, 0, NULL);
	if (!err)
		err = ubinder_hidl_write_string(reply, text);
	return err;
}

static int serve(ubinder_context *ctx, const char *instance)
{
	static const char *const chain[] = { ECHO_FQNAME };
	const struct ubinder_hidl_interface iface = {
		.chain = chain,
		.nchain = 1,
		.handler = echo_handler,
	};
	ubinder_binder *service;
	sigset_t sigs;
	int sig, err;

	/* Signals are taken with sigwait; the pool's threads block them all. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	err = ubinder_hidl_object_new(ctx, &iface, NULL, NULL, &service);
	if (!err)
		err = ubinder_context_start_thread_pool(ctx);
	if (!err)
		err = ubinder_hidl_sm_add(ctx, instance, service);
	if (err) {
		fprintf(stderr, "hidl-echo: cannot register: %s\n", ubinder_strerror(err));
		ubinder_binder_unref(service);
		return 1;
	}
	printf("hidl-echo: %s/%s registered, serving\n", ECHO_FQNAME, instance);
	sigwait(&sigs, &sig);
	ubinder_binder_unref(service);
	return 0;
}

static int call(ubinder_context *ctx, const char *instance, const char *text)
{
	struct ubinder_hidl_debug_info info;
	ubinder_parcel *data = ubinder_parcel_new(), *reply = NULL;
	ubinder_binder *echo = NULL;
	const char *answer;
	char **chain = NULL;
	int err = ubinder_hidl_sm_get(ctx, ECHO_FQNAME, instance, &echo);

	if (!err)
		err = ubinder_hidl_interface_chain(echo, &chain, NULL);
	if (!err)
		err = ubinder_hidl_get_debug_info(echo, &info);
	if (!err) {
		printf("interfaceChain:");
		for (size_t i = 0; chain[i]; i++)
			printf(" %s", chain[i]);
		printf("\ngetDebugInfo: pid %d\n", (int)info.pid);
		err = data ? ubinder_hidl_write_interface_token(data, ECHO_FQNAME)
			   : UBINDER_ERR_NO_MEMORY;
	}
	if (!err)
		err = ubinder_hidl_write_string(data, text);
	if (!err)
		err = ubinder_binder_transact(echo, ECHO_CODE, data, 0, &reply);
	if (!err)
		err = ubinder_hidl_read_status(reply, NULL);
	if (!err)
		err = ubinder_hidl_read_string(reply, &answer, NULL);
	if (!err)
		printf("echo: %s\n", answer);
	else
		fprintf(stderr, "hidl-echo: %s/%s: %s\n", ECHO_FQNAME, instance,
			ubinder_strerror(err));
	ubinder_hidl_free_strings(chain);
	ubinder_parcel_free(reply);
	ubinder_parcel_free(data);
	ubinder_binder_unref(echo);
	return err ? 1 : 0;
}

static int list(ubinder_context *ctx)
{
	char **names = NULL;
	int err = ubinder_hidl_sm_list(ctx, &names, NULL);

	if (err) {
		fprintf(stderr, "hidl-echo: list: %s\n", ubinder_strerror(err));
		return 1;
	}
	for (size_t i = 0; names[i]; i++)
		printf("%s\n", names[i]);
	ubinder_hidl_free_strings(names);
	return 0;
}

int main(int argc, char **argv)
{
	const char *socket = getenv("UBINDER_SOCKET"), *instance = "default";
	bool serving = argc >= 2 && strcmp(argv[1], "serve") == 0;
	bool listing = argc == 2 && strcmp(argv[1], "list") == 0;
	char buf[PATH_MAX];
	ubinder_context *ctx;
	int err, status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!listing && (argc < 2 || (!serving && strcmp(argv[1], "call") != 0) ||
			 (serving && argc > 3) || (!serving && (argc < 3 || argc > 4)))) {
		fprintf(stderr, "Usage: hidl-echo serve [INSTANCE]\n"
				"       hidl-echo call [INSTANCE] TEXT\n"
				"       hidl-echo list\n");
		return 2;
	}
	if ((serving && argc == 3) || (!serving && argc == 4))
		instance = argv[2];
	if (!socket || !socket[0]) {
		if (ubinder_default_socket("hwbinder", buf, sizeof(buf)))
			return 1;
		socket = buf;
	}
	err = ubinder_context_open(socket, &ctx);
	if (err) {
		fprintf(stderr, "hidl-echo: cannot open %s: %s\n", socket, ubinder_strerror(err));
		return 1;
	}
	status = listing   ? list(ctx)
		 : serving ? serve(ctx, instance)
			   : call(ctx, instance, argv[argc - 1]);
	ubinder_context_close(ctx);
	return status;
}
