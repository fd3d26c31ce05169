// The tour of FunctionalAD: the talk's examples in order, ending with a CNN trained on Fashion-MNIST's real images.
// Run with:  dotnet fsi build.fsx -- -t Tour  (it fetches the data first; or, after a build and `-t Data`,
// `dotnet fsi examples/tour.fsx`). Each example is also a script of its own.
#load "01-tensors.fsx" "02-autograd-history.fsx" "03-sin-cos.fsx" "04-custom-function.fsx" "05-quadratic.fsx" "06-linear-regression.fsx" "07-define-by-run.fsx" "08-mlp-classifier.fsx" "09-fashion-cnn.fsx"
printfn "\nThe tour ran to the end; every check held."
