// Loads FunctionalAD into an F# script: `#load "_load.fsx"` then `open FunctionalAD`.
// Build first (`dotnet fsi build.fsx -- -t Build`); this references the Release build of src/FunctionalAD.
#r "../src/FunctionalAD/bin/Release/net10.0/System.Numerics.Tensors.dll"
#r "../src/FunctionalAD/bin/Release/net10.0/FunctionalAD.Core.dll"
#r "../src/FunctionalAD/bin/Release/net10.0/FunctionalAD.dll"
