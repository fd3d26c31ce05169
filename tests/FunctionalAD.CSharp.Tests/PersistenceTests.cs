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
        Assert.NotEqual(a.W.Value.ToArray<float>(), b.W.Value.ToArray<float>());
        Assert.True(b.Load(path).IsExact);
        Assert.Equal(a.W.Value.ToArray<float>(), b.W.Value.ToArray<float>());
        var wrong = new Linear(4, 2);
        var before = wrong.W.Value;
        var e = Assert.Throws<ModuleLoadException>(() => wrong.Load(path));
        Assert.Contains("'w'", e.Message);
        Assert.Same(before, wrong.W.Value);
        // non-strict: what matches ("b") is loaded, the rest reported
        var report = wrong.Load(path, strict: false);
        Assert.Equal("w", Assert.Single(report.Mismatched).Name);
        var file = SafeTensors.Load(path);
        Assert.Equal(new[] { "b", "w" }, file.Tensors.Select(kv => kv.Key).OrderBy(n => n, StringComparer.Ordinal).ToArray());
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..40]);
        Assert.Throws<CorruptFileException>(() => new Linear(3, 2).Load(path));
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
