using FunctionalAD.Data;

namespace FunctionalAD.CSharp.Tests;

/// <summary>FunctionalAD.Distributed as C# sees it, in a world of one process (no MPI launcher, no MPI library);
/// the multi-process behaviour is tested under mpirun by tests/FunctionalAD.Distributed.Tests.</summary>
public class DistributedTests
{
    [Fact]
    public void A_process_started_alone_is_a_world_of_one_without_MPI()
    {
        var world = World.Init();
        Assert.Equal((0, 1, 0, 1), (world.Rank, world.Size, world.LocalRank, world.LocalSize));
        Assert.False(world.UsesMpi);
        Assert.True(world.IsMain);
        Assert.Same(world, World.Init());
    }

    [Fact]
    public void Collectives_of_a_world_of_one_return_their_input()
    {
        var world = World.Init();
        var a = Tensor.FromArray(new[] { 1f, 2f, 3f }, 3);
        var b = Tensor.FromArray(new[] { 4L, 5L }, 2);
        var r = world.AllReduce([a, b], ReduceOp.Sum);
        Assert.Equal(a.ToArray<float>(), r[0].ToArray<float>());
        Assert.Equal(b.ToArray<long>(), r[1].ToArray<long>());
        Assert.Equal(a.ToArray<float>(), world.AllReduce(a, ReduceOp.Mean).ToArray<float>());
        Assert.Equal(b.ToArray<long>(), world.Broadcast([b])[0].ToArray<long>());
        Assert.Equal(2.5, world.AllReduce(2.5, ReduceOp.Max));
        world.Barrier();
        var e = Assert.Throws<DTypeMismatchException>(() => world.AllReduce(b, ReduceOp.Mean));
        Assert.Contains("Mean", e.Message);
    }

    [Fact]
    public void DataParallel_gradients_of_a_world_of_one_are_the_local_gradients()
    {
        var world = World.Init();
        var w = Tensor.FromArray(new[] { 0.5, -1.0, 2.0 }, 3);
        var c = Tensor.FromArray(new[] { 1.0 }, 1);
        Func<Tensor[], Tensor> loss = ps => (ps[0] * ps[0]).Sum() + (ps[1] * ps[0]).Sum();
        var reducer = new DataParallel(world, [w, c]);
        var (value, grads) = reducer.ValueAndGrad(loss, [w, c]);
        var (v0, g0) = Transform.ValueAndGrad(loss, w, c);
        Assert.Equal(v0.Item(), value.Item());
        Assert.Equal(g0[0].ToArray<double>(), grads[0].ToArray<double>());
        Assert.Equal(g0[1].ToArray<double>(), grads[1].ToArray<double>());
        Assert.Throws<ArgumentException>(() => reducer.ValueAndGrad(loss, [w]));
    }

    [Fact]
    public void Shards_of_a_loader_are_disjoint_and_cover_it()
    {
        var data = FunctionalAD.Data.Dataset.FromFunc(10, i => Tensor.FromArray(new[] { (double)i }, 1));
        var loader = new DataLoader<Tensor, Tensor>(data, 2, xs => Tensor.Stack(xs.ToArray(), 0), seed: 4, prefetch: 0);
        var shards = Enumerable.Range(0, 3).Select(r => new DistributedLoader<Tensor, Tensor>(loader, r, 3)).ToArray();
        var all = shards.SelectMany(s => s.ShardIndices(0)).ToArray();
        Assert.Equal(12, all.Length); // 10 padded to a multiple of 3
        Assert.Equal(10, all.Distinct().Count());
        Assert.All(shards, s => Assert.Equal(2, s.BatchesPerEpoch));
        Assert.NotEqual(shards[0].ShardIndices(0), shards[0].ShardIndices(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedLoader<Tensor, Tensor>(loader, 3, 3));
    }
}
