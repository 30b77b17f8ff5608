/* The tuning database end to end on a device: a file written for this
 * device (by tuning_db.c's writer, as `clcnn tune` writes it) is read by
 * each new context, and its rows steer the layers they name: the exact
 * row its layer, the class row the other layers of its class, nothing the
 * rest. CLCNN_TUNE's keys and clcnn_context_set_tuning stay above it;
 * CLCNN_TUNING=off, a damaged file and another device's file leave the
 * defaults. What a row sets is seen in the launch: conv forward's grid has
 * n_C / conv_vector items across (the CPU column's register tiles).
 * Exit 77 without an OpenCL device, unless CLCNN_REQUIRE_DEVICE=1. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, setenv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clcnn.h"
#include "test_expect.h"
#include "tuning_db.h"


/* A convolution forward with 16 output channels. */
typedef struct layer {
    const char *name;
    size_t a_dims[4], w_dims[4];
    int pad;
} layer;

/* exact: the row for this shape; pointwise: of the class row's class;
 * plain: in no row (same class as `exact`, another shape). */
static const layer exact = {"exact", {1, 6, 6, 3}, {3, 3, 3, 16}, 1};
static const layer pointwise = {"pointwise", {1, 4, 4, 8}, {1, 1, 8, 16}, 0};
static const layer plain = {"plain", {1, 5, 5, 3}, {3, 3, 3, 16}, 1};

static char dir[256];

static int check_any(const char *spec, char *why, size_t cap)
{
    (void)spec, (void)why, (void)cap;
    return 0;
}

/* Writes this device's database with the exact row and the class row,
 * under an identity whose device name is `device` (NULL: this device's).
 * Returns 0, 77 (no device) or 1. */
static int write_database(const char *device, char *path, size_t capacity)
{
    clcnn_device_info infos[32];
    size_t count = 0;
    if (clcnn_devices_list(NULL, infos, 32, &count) != CLCNN_OK || count == 0)
        return 77;
    clcnn_tuning_db db;
    memset(&db, 0, sizeof db);
    for (size_t i = 0; i < count && i < 32; i++)
        if (infos[i].chosen)
            clcnn__tuning_identity_of(&infos[i], &db.id);
    char file_name[512];
    clcnn__tuning_db_file_name(&db.id, file_name, sizeof file_name);
    if (device)
        snprintf(db.id.device, sizeof db.id.device, "%s", device);
    clcnn_tuning_layer_key key;
    const clcnn_conv_params params = clcnn_conv_params_default(1, exact.pad);
    const clcnn_conv_params unpadded = clcnn_conv_params_default(1, 0);
    char msg[256];
    int rc = clcnn__tuning_conv_key(&key, "conv_forward", CLCNN_FLOAT32, exact.a_dims, exact.w_dims, &params) ||
             clcnn__tuning_db_set(&db, key.exact, "conv_vector=4", check_any, msg, sizeof msg) ||
             clcnn__tuning_conv_key(&key, "conv_forward", CLCNN_FLOAT32, pointwise.a_dims, pointwise.w_dims,
                                    &unpadded) ||
             clcnn__tuning_db_set(&db, key.class_key, "conv_vector=2", check_any, msg, sizeof msg) ||
             clcnn__tuning_db_write(&db, dir, 0, path, capacity, msg, sizeof msg);
    EXPECT(rc == 0, "writing the database: %s", msg);
    /* Another device's database goes under this device's file name, so
     * that only its header tells it apart. */
    if (device && rc == 0) {
        char own[1024];
        snprintf(own, sizeof own, "%s/%s", dir, file_name);
        EXPECT(rename(path, own) == 0, "renaming %s to %s", path, own);
        snprintf(path, capacity, "%s", own);
    }
    clcnn__tuning_db_free(&db);
    return rc != 0;
}

/* Channel items across conv forward's grid for layer l in ctx, or -1. */
static long channel_items(clcnn_context *ctx, const layer *l)
{
    const size_t z_dims[4] = {l->a_dims[0], l->a_dims[1] + 2 * l->pad - l->w_dims[0] + 1,
                              l->a_dims[2] + 2 * l->pad - l->w_dims[1] + 1, l->w_dims[3]};
    clcnn_tensor *a = NULL, *w = NULL, *z = NULL;
    clcnn_launch launch;
    size_t count = 0;
    long items = -1;
    const clcnn_conv_params params = clcnn_conv_params_default(1, l->pad);
    if (clcnn_tensor_create(ctx, CLCNN_FLOAT32, l->a_dims, &a) == CLCNN_OK &&
        clcnn_tensor_create(ctx, CLCNN_FLOAT32, l->w_dims, &w) == CLCNN_OK &&
        clcnn_tensor_create(ctx, CLCNN_FLOAT32, z_dims, &z) == CLCNN_OK && clcnn_context_profile(ctx, 1) == CLCNN_OK &&
        clcnn_conv_forward_ex(ctx, a, w, NULL, &params, CLCNN_ACTIVATION_NONE, z) == CLCNN_OK &&
        clcnn_context_launches(ctx, &launch, 1, &count) == CLCNN_OK && count == 1)
        items = (long)launch.global[1];
    EXPECT(items > 0, "%s: conv forward did not run as one launch: %s", l->name, clcnn_context_last_error(ctx));
    clcnn_context_profile(ctx, 0);
    clcnn_tensor_destroy(a);
    clcnn_tensor_destroy(w);
    clcnn_tensor_destroy(z);
    return items;
}

/* A new context under CLCNN_TUNE=tune (and `set`, if not NULL, set on
 * it): the three layers' channel items against want[], and whether its
 * notes hold `note` (NULL: any notes). */
static void expect_plans(const char *what, const char *tune, const char *set, const long want[3], const char *note)
{
    setenv("CLCNN_TUNE", tune, 1);
    clcnn_context *ctx = NULL;
    if (clcnn_context_create(NULL, &ctx) != CLCNN_OK) {
        EXPECT(0, "%s: clcnn_context_create: %s", what, clcnn_context_last_error(ctx));
        clcnn_context_destroy(ctx);
        return;
    }
    if (set)
        EXPECT(clcnn_context_set_tuning(ctx, set) == CLCNN_OK, "%s: set_tuning(%s): %s", what, set,
               clcnn_context_last_error(ctx));
    const layer *layers[3] = {&exact, &pointwise, &plain};
    for (int i = 0; i < 3; i++) {
        const long got = channel_items(ctx, layers[i]);
        EXPECT(got == want[i], "%s: layer %s has %ld channel items, not %ld (notes: %s)", what, layers[i]->name, got,
               want[i], clcnn_context_tuning_notes(ctx));
    }
    if (note)
        EXPECT(strstr(clcnn_context_tuning_notes(ctx), note) != NULL, "%s: the notes lack '%s': %s", what, note,
               clcnn_context_tuning_notes(ctx));
    clcnn_context_destroy(ctx);
}

/* Keeps the first half of the file at path. */
static void truncate_half(const char *path)
{
    FILE *f = fopen(path, "rb");
    char text[8192];
    size_t n = f ? fread(text, 1, sizeof text, f) : 0;
    if (f)
        fclose(f);
    f = fopen(path, "wb");
    if (f) {
        fwrite(text, 1, n / 2, f);
        fclose(f);
    }
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/clcnn-tuning-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL)
        return 1;
    setenv("CLCNN_TUNING_DIR", dir, 1);
    unsetenv("CLCNN_TUNING");
    char path[1024];
    int rc = write_database(NULL, path, sizeof path);
    if (rc == 77 && !(getenv("CLCNN_REQUIRE_DEVICE") && strcmp(getenv("CLCNN_REQUIRE_DEVICE"), "1") == 0))
        return 77;
    if (rc)
        return 1;
    const long tuned[3] = {4, 8, 1}, untuned[3] = {1, 1, 1}, env_over[3] = {2, 2, 2}, set_over[3] = {16, 16, 16};
    expect_plans("the database", "table=cpu", NULL, tuned, path);
    expect_plans("CLCNN_TUNE over the database", "table=cpu,conv_vector=8", NULL, env_over, path);
    expect_plans("set_tuning over the database", "table=cpu", "conv_vector=1", set_over, path);
    setenv("CLCNN_TUNING", "off", 1);
    expect_plans("CLCNN_TUNING=off", "table=cpu", NULL, untuned, NULL);
    unsetenv("CLCNN_TUNING");
    truncate_half(path);
    expect_plans("a truncated file", "table=cpu", NULL, untuned, path);
    remove(path);
    if (write_database("another device", path, sizeof path))
        return 1;
    expect_plans("another device's file", "table=cpu", NULL, untuned, "another device");
    remove(path);
    rmdir(dir);
    if (failures)
        fprintf(stderr, "%d failures\n", failures);
    return failures != 0;
}
