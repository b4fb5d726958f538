/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "alloc/free_index.h"

int free_index_init(struct free_index *x, size_t max_size)
{
	unsigned int fl = free_index_bin(max_size) / FREE_INDEX_SL_COUNT;

	*x = (struct free_index){ .fl_count = fl + 1, .scan_limit = FREE_INDEX_SCAN_LIMIT };
	x->bins = calloc((size_t)x->fl_count * FREE_INDEX_SL_COUNT, sizeof(*x->bins));
	x->sl_map = calloc(x->fl_count, sizeof(*x->sl_map));
	if (!x->bins || !x->sl_map) {
		free_index_deinit(x);
		return -ENOMEM;
	}
	return 0;
}

void free_index_deinit(struct free_index *x)
{
	free(x->bins);
	free(x->sl_map);
	*x = (struct free_index){ 0 };
}
