/* The kernels of tests/oclgrind_uninit_repro.c: `fill` writes every
 * element of a buffer, `copy` reads every element back, so nothing read is
 * uninitialised. */
__kernel void fill(__global float *work)
{
    const size_t i = get_global_id(0);
    work[i] = (float)i;
}

__kernel void copy(const __global float *work, __global float *out)
{
    const size_t i = get_global_id(0);
    out[i] = work[i] + 1.0f;
}
