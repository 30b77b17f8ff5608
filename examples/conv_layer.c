/* A convolution layer forward and backward with clcnn: the README's example.
 * Build against the installed library:
 *   cc conv_layer.c $(pkg-config --cflags --libs clcnn) -o conv_layer */
#include <stdio.h>
#include <clcnn.h>

#define CHECK(call)                                                                                                    \
    do {                                                                                                               \
        clcnn_status st_ = (call);                                                                                     \
        if (st_ != CLCNN_OK) {                                                                                         \
            fprintf(stderr, "%s\n%s\n", clcnn_status_string(st_), clcnn_context_last_error(ctx));                      \
            return 1;                                                                                                  \
        }                                                                                                              \
    } while (0)

int main(void)
{
    clcnn_context *ctx = NULL;
    CHECK(clcnn_context_create(NULL, &ctx)); /* CLCNN_DEVICE, else GPU, else POCL */
    printf("device: %s\n", clcnn_context_device_name(ctx));

    /* a_prev: 1 image, 4x4 pixels, 2 channels (NHWC); w: 3x3 window, 2 -> 1 channel */
    const size_t a_dims[4] = {1, 4, 4, 2}, w_dims[4] = {3, 3, 2, 1};
    const size_t b_dims[4] = {1, 1, 1, 1}, z_dims[4] = {1, 4, 4, 1}; /* pad 1, stride 1 */
    float a[32], w[18], b[1] = {0.5f}, z[16], dz[16], dw[18];
    for (int i = 0; i < 32; i++)
        a[i] = (float)(i % 5) - 2.0f;
    for (int i = 0; i < 18; i++)
        w[i] = 0.1f * (float)(i % 3);
    for (int i = 0; i < 16; i++)
        dz[i] = 1.0f;

    clcnn_tensor *ta, *tw, *tb, *tz, *tdz, *tdw;
    CHECK(clcnn_tensor_create(ctx, CLCNN_FLOAT32, a_dims, &ta));
    CHECK(clcnn_tensor_create(ctx, CLCNN_FLOAT32, w_dims, &tw));
    CHECK(clcnn_tensor_create(ctx, CLCNN_FLOAT32, b_dims, &tb));
    CHECK(clcnn_tensor_create(ctx, CLCNN_FLOAT32, z_dims, &tz));
    CHECK(clcnn_tensor_create(ctx, CLCNN_FLOAT32, z_dims, &tdz));
    CHECK(clcnn_tensor_create(ctx, CLCNN_FLOAT32, w_dims, &tdw));
    CHECK(clcnn_tensor_write(ta, a, sizeof a));
    CHECK(clcnn_tensor_write(tw, w, sizeof w));
    CHECK(clcnn_tensor_write(tb, b, sizeof b));
    CHECK(clcnn_tensor_write(tdz, dz, sizeof dz));

    CHECK(clcnn_conv_forward(ctx, ta, tw, tb, /*stride*/ 1, /*pad*/ 1, tz));
    /* Only dW here: da_prev and db may be NULL when not needed. */
    CHECK(clcnn_conv_backward(ctx, tdz, ta, tw, 1, 1, NULL, tdw, NULL));
    CHECK(clcnn_tensor_read(tz, z, sizeof z)); /* waits for the queue */
    CHECK(clcnn_tensor_read(tdw, dw, sizeof dw));
    printf("z[0..3] = %g %g %g %g\n", z[0], z[1], z[2], z[3]);
    printf("dw[0..3] = %g %g %g %g\n", dw[0], dw[1], dw[2], dw[3]);

    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tw);
    clcnn_tensor_destroy(tb);
    clcnn_tensor_destroy(tz);
    clcnn_tensor_destroy(tdz);
    clcnn_tensor_destroy(tdw);
    clcnn_context_destroy(ctx);
    return 0;
}
