using FunctionalAD.Persistence;

namespace FunctionalAD.Data;

/// <summary>
/// MNIST-style image sets (MNIST, Fashion-MNIST, KMNIST): a folder holding the four IDX files
/// <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c> and
/// <c>t10k-labels-idx1-ubyte</c>, each raw or gzip-compressed (".gz" appended).
/// </summary>
public static class Mnist
{
    /// <summary>The four file names (without ".gz") a folder must hold.</summary>
    public static readonly IReadOnlyList<string> FileNames =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>The ten Fashion-MNIST classes, in label order (0: "T-shirt/top" ... 9: "Ankle boot").</summary>
    public static readonly IReadOnlyList<string> FashionClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// Loads the training set (60,000 images in MNIST and Fashion-MNIST) or the test set ("t10k", 10,000) from
    /// <paramref name="folder"/>: images as Float32 [N, 1, H, W] scaled to [0, 1] (byte / 255), labels as Int64 [N].
    /// </summary>
    /// <exception cref="FileNotFoundException">a file is missing (raw or ".gz"); the message names the folder, the
    /// four files expected and how to fetch Fashion-MNIST.</exception>
    /// <exception cref="CorruptFileException">a file is not IDX, is truncated, has the wrong rank, or the image and
    /// label counts differ.</exception>
    public static (Tensor Images, Tensor Labels) Load(string folder, bool train)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string prefix = train ? "train" : "t10k";
        string imagesPath = Find(folder, $"{prefix}-images-idx3-ubyte");
        string labelsPath = Find(folder, $"{prefix}-labels-idx1-ubyte");
        var images = Idx.Load(imagesPath);
        var labels = Idx.Load(labelsPath);
        if (images.Rank != 3)
            throw new CorruptFileException(imagesPath, $"expected images [N, height, width], got {Shape.Format(images.Shape)}");
        if (labels.Rank != 1)
            throw new CorruptFileException(labelsPath, $"expected labels [N], got {Shape.Format(labels.Shape)}");
        if (images.Shape[0] != labels.Shape[0])
            throw new CorruptFileException(labelsPath, $"{labels.Shape[0]} labels for {images.Shape[0]} images in {imagesPath}");
        var scaled = images.To(DType.Float32) / 255.0;
        return (scaled.Reshape(images.Shape[0], 1, images.Shape[1], images.Shape[2]), labels.To(DType.Int64));
    }

    static string Find(string folder, string name)
    {
        foreach (var candidate in new[] { name + ".gz", name })
        {
            string path = Path.Combine(folder, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException(
            $"Mnist.Load: {Path.GetFullPath(folder)} holds neither {name}.gz nor {name}. The folder needs the four IDX files "
            + $"{string.Join(", ", FileNames.Select(f => f + ".gz"))} (raw or gzip-compressed). In the FunctionalAD repository "
            + "`dotnet fsi build.fsx -- -t Data` fetches Fashion-MNIST into data/fashion-mnist (Debian/Ubuntu's dataset-fashion-mnist "
            + "package); elsewhere download the four files from https://github.com/zalandoresearch/fashion-mnist into that folder.",
            Path.Combine(folder, name + ".gz"));
    }
}
