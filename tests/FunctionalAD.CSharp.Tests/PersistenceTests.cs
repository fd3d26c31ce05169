using FunctionalAD;
using FunctionalAD.Data;
using FunctionalAD.Imperative;
using FunctionalAD.Persistence;
using Xunit;

public class PersistenceTests
{
    static string TempFile() => Path.Combine(Path.GetTempPath(), $"fad-cs-{Guid.NewGuid():N}.safetensors");

    [Fact]
    public void ModuleSaveAndLoadRoundTrip()
    {
        var path = TempFile();
        var a = new Linear(3, 2, seed: 1);
        a.Save(path);
        var b = new Linear(3, 2, seed: 2);
        b.LoadFrom(path);
        Assert.Equal(a.Params["w"].ToArray<float>(), b.Params["w"].ToArray<float>());
        Assert.Throws<LoadMismatchException>(() => new Linear(4, 2).LoadFrom(path));
        var loaded = Params.Load(path);
        Assert.Equal(new[] { "b", "w" }, loaded.Names);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..40]);
        Assert.Throws<CorruptFileException>(() => Params.Load(path));
        File.Delete(path);
    }

    [Fact]
    public void CheckpointRoundTrip()
    {
        var path = TempFile();
        var p = new Linear(2, 2, seed: 3).Params;
        var opt = Optim.Adam(0.01);
        var state = Optim.Init(opt, p);
        Checkpoint.Save(path, p, state, new LoaderPosition(1, 4), new Generator(5).State);
        var c = Checkpoint.Load(path, p);
        Assert.Equal(new LoaderPosition(1, 4), c.Position);
        Assert.Equal(new Generator(5).State, c.Generator);
        Assert.Equal(p["w"].ToArray<float>(), c.Params["w"].ToArray<float>());
        File.Delete(path);
    }

    [Fact]
    public void DataLoaderOverTensors()
    {
        var x = Tensor.Arange(10).Reshape(10, 1);
        var loader = new DataLoader<Tensor[], Tensor[]>(new TensorDataset(x, x), 4, _ => throw new InvalidOperationException(), seed: 1);
        var seen = loader.Batches(0).SelectMany(b => b[0].ToArray<float>()).OrderBy(v => v).ToArray();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), seen);
        Assert.Equal(3, loader.BatchesPerEpoch);
    }
}
