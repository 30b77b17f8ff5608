/* The per-device launch configuration: the default column (from the device
 * type, or the one `table=` names), the keys CLCNN_TUNE sets over it, the
 * keys clcnn_context_set_tuning sets over those, and the config string.
 * Every key comes from the one table in tuning_table.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tuning_spec.h"

/* The column CLCNN_TUNE or clcnn_context_set_tuning named last, else the
 * device type's. */
static int table_of(const clcnn_context *ctx)
{
    return ctx->tune_user.table >= 0  ? ctx->tune_user.table
           : ctx->tune_env.table >= 0 ? ctx->tune_env.table
                                      : ctx->default_table;
}

/* *t from the column, the database's rows for a layer (layers[0 ..
 * n_layers), lowest first), CLCNN_TUNE's keys and set_tuning's. */
static void compose_into(const clcnn_context *ctx, const clcnn_tuning_overrides *layers, int n_layers, clcnn_tuning *t)
{
    const clcnn_tuning_overrides *sources[4];
    int n = 0;
    for (int l = 0; l < n_layers && l < 2; l++)
        sources[n++] = &layers[l];
    sources[n++] = &ctx->tune_env;
    sources[n++] = &ctx->tune_user;
    clcnn__tuning_compose(&ctx->facts, table_of(ctx), sources, n, t);
}

/* ctx->tuning and ctx->config, for layers without rows of their own. */
static void compose(clcnn_context *ctx)
{
    compose_into(ctx, NULL, 0, &ctx->tuning);
    clcnn__tuning_config(&ctx->tuning, table_of(ctx), ctx->config, sizeof ctx->config);
}

static int check_row_spec(const char *spec, char *why, size_t capacity)
{
    return clcnn__tuning_check_spec(spec, 0, why, capacity);
}

static void device_text(const clcnn_context *ctx, cl_device_info what, char *out, size_t capacity)
{
    out[0] = '\0';
    if (clGetDeviceInfo(ctx->device, what, capacity - 1, out, NULL) != CL_SUCCESS)
        out[0] = '\0';
    out[capacity - 1] = '\0';
}

/* Opens this device's tuning database (CLCNN_TUNING=off: none), noting
 * which file applies, or why none does. */
static void open_database(clcnn_context *ctx)
{
    clcnn_tuning_identity id = {.compute_units = ctx->compute_units, .table_hash = clcnn__tuning_table_hash()};
    if (clGetPlatformInfo(ctx->platform, CL_PLATFORM_NAME, sizeof id.platform - 1, id.platform, NULL) != CL_SUCCESS)
        id.platform[0] = '\0';
    device_text(ctx, CL_DEVICE_NAME, id.device, sizeof id.device);
    device_text(ctx, CL_DRIVER_VERSION, id.driver, sizeof id.driver);
    const clcnn_tuning_env env = clcnn__tuning_env();
    const size_t used = strlen(ctx->tuning_notes);
    char *notes = ctx->tuning_notes + used;
    const size_t room = sizeof ctx->tuning_notes - used;
    memset(&ctx->tuning_db, 0, sizeof ctx->tuning_db);
    const clcnn_tuning_db_source source =
        clcnn__tuning_db_open(&ctx->tuning_db, &id, &env, check_row_spec, notes, room);
    if (source == CLCNN_TUNING_DB_EXACT || source == CLCNN_TUNING_DB_OTHER_UNITS) {
        const size_t at = strlen(notes);
        snprintf(notes + at, room - at, "tuning database: %s (%zu rows)\n", ctx->tuning_db.path, ctx->tuning_db.count);
    }
}

void clcnn__tuning_release(clcnn_context *ctx)
{
    clcnn__tuning_db_free(&ctx->tuning_db);
}

/* The overrides of a spec already checked (a database row). */
static void overrides_of(const char *spec, clcnn_tuning_overrides *o)
{
    char why[256];
    clcnn__tuning_no_overrides(o);
    clcnn__tuning_parse(spec, 0, 1, o, why, sizeof why, NULL, 0);
}

void clcnn__tuning_layer_begin(clcnn_context *ctx, const clcnn_tuning_layer_key *key, clcnn_tuning *saved)
{
    *saved = ctx->tuning;
    const char *exact = NULL, *class_spec = NULL;
    if (ctx->tuning_db.count > 0)
        clcnn__tuning_db_lookup(&ctx->tuning_db, key, &exact, &class_spec);
    if (exact == NULL && class_spec == NULL)
        return;
    clcnn_tuning_overrides layers[2];
    overrides_of(class_spec ? class_spec : "", &layers[0]);
    overrides_of(exact ? exact : "", &layers[1]);
    compose_into(ctx, layers, 2, &ctx->tuning);
}

void clcnn__tuning_layer_end(clcnn_context *ctx, const clcnn_tuning *saved)
{
    ctx->tuning = *saved;
}

void clcnn__tuning_init(clcnn_context *ctx)
{
    cl_uint simd_floats = 1;
    clGetDeviceInfo(ctx->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof simd_floats, &simd_floats, NULL);
    ctx->facts = (clcnn_device_facts){
        .simd_floats = simd_floats,
        .max_work_group_size = ctx->max_work_group_size,
        .local_mem = ctx->local_mem,
    };
    ctx->default_table = (ctx->device_type & CL_DEVICE_TYPE_CPU) == 0;
    clcnn__tuning_no_overrides(&ctx->tune_env);
    clcnn__tuning_no_overrides(&ctx->tune_user);
    ctx->tuning_notes[0] = '\0';
    char why[256];
    clcnn__tuning_parse(getenv("CLCNN_TUNE"), 1, 0, &ctx->tune_env, why, sizeof why, ctx->tuning_notes,
               sizeof ctx->tuning_notes);
    open_database(ctx);
    compose(ctx);
}

clcnn_status clcnn_context_set_tuning(clcnn_context *ctx, const char *config)
{
    clcnn_status st = clcnn__check_context(ctx, "clcnn_context_set_tuning");
    if (st != CLCNN_OK)
        return st;
    if (config == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "clcnn_context_set_tuning: config is NULL; pass \"key=value,...\" (\"\" changes nothing)");
    clcnn_tuning_overrides user = ctx->tune_user;
    char why[256];
    if (clcnn__tuning_parse(config, 1, 1, &user, why, sizeof why, NULL, 0) != 0)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_context_set_tuning: %s; nothing was changed", why);
    ctx->tune_user = user;
    compose(ctx);
    return CLCNN_OK;
}

const char *clcnn_context_tuning_notes(const clcnn_context *ctx)
{
    return ctx ? ctx->tuning_notes : "";
}
