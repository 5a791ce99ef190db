/* Aligned blocks for numpy's arrays (Note [aligned arrays] in gdl.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdl.h"

#define HEAD (2 * sizeof(size_t))              /* below a block: its raw pointer and size */
#define EXTRA (GDL_ALIGN + HEAD)               /* room for the head and the rounding up */

/* Where the aligned block inside raw starts: the first boundary with room for the head. */
static char *aligned_in(char *raw) {
    return (char *)(((uintptr_t)raw + HEAD + GDL_ALIGN - 1) & ~(uintptr_t)(GDL_ALIGN - 1));
}

/* The aligned block inside raw (EXTRA + size bytes), with its head written. */
static void *place(char *raw, size_t size) {
    char *block = aligned_in(raw);
    ((size_t *)block)[-1] = (size_t)(block - raw);
    ((size_t *)block)[-2] = size;
    return block;
}

static char *raw_of(void *block) {
    return (char *)block - ((size_t *)block)[-1];
}

void *gdl_aligned_malloc(void *ctx, size_t size) {
    (void)ctx;
    if (size > SIZE_MAX - EXTRA) {
        return NULL;
    }
    char *raw = malloc(size + EXTRA);
    return raw == NULL ? NULL : place(raw, size);
}

void *gdl_aligned_calloc(void *ctx, size_t count, size_t size) {
    (void)ctx;
    if (size != 0 && count > (SIZE_MAX - EXTRA) / size) {
        return NULL;
    }
    char *raw = calloc(1, count * size + EXTRA);
    return raw == NULL ? NULL : place(raw, count * size);
}

void *gdl_aligned_realloc(void *ctx, void *block, size_t size) {
    if (block == NULL) {
        return gdl_aligned_malloc(ctx, size);
    }
    if (size > SIZE_MAX - EXTRA) {
        return NULL;
    }
    size_t offset = ((size_t *)block)[-1], before = ((size_t *)block)[-2];
    char *raw = realloc(raw_of(block), size + EXTRA);
    if (raw == NULL) {
        return NULL;                           /* the block stays as it was */
    }
    char *moved = aligned_in(raw);
    if ((size_t)(moved - raw) != offset) {     /* realloc kept 16-byte, not 64-byte, alignment */
        memmove(moved, raw + offset, before < size ? before : size);
    }
    return place(raw, size);
}

void gdl_aligned_free(void *ctx, void *block, size_t size) {
    (void)ctx, (void)size;
    if (block != NULL) {
        free(raw_of(block));
    }
}
