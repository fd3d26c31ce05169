/* The reference figure for FunctionalAD.Distributed's all-reduce: MPI_Allreduce (in place, sum) of 1M floats,
   timed as the F# test program times it (bench mode).
   mpicc -O2 -o /tmp/allreduce allreduce.c && mpirun.mpich -np 2 /tmp/allreduce */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size, n = 1 << 20, reps = 30;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    float *buffer = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++) buffer[i] = 1.0f;
    MPI_Allreduce(MPI_IN_PLACE, buffer, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); /* warm up */
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int r = 0; r < reps; r++) MPI_Allreduce(MPI_IN_PLACE, buffer, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    double t = (MPI_Wtime() - t0) / reps;
    if (rank == 0)
        printf("C MPI_Allreduce of 1M floats (4 MiB), np %d: %.3f ms, %.2f GB/s (message bytes / time)\n", size, 1e3 * t, 4.0 * n / t / 1e9);
    free(buffer);
    MPI_Finalize();
    return 0;
}
