// 1. Tensors: creation, shape, immutable updates, the .NET-array bridge, matmul, reshape, device placement.
#load "_load.fsx"
open FunctionalAD
open _load.Example

section "1. Tensors"
let x = tensor [ [ 1.0; 2.0; 3.0 ]; [ 4.0; 5.0; 6.0 ] ]
printfn "x = %O" x
printfn "x.shape = %A (size %d), dtype %A" x.shape x.numel x.dtype
printfn "zeros, ones, randn (seed 0):\n%O\n%O\n%O" (Tensor.zeros [ 2; 2 ]) (Tensor.ones [ 3 ]) (Tensor.randn ([ 2; 3 ], 0UL))

// PyTorch's y.add_(x) mutates y. Here tensors are values: "adding in place" is binding a new value.
let y = Tensor.ones [ 2; 3 ]
let y2 = y + x.toDtype DType.Float32
printfn "y + x = %O\ny is unchanged: %O" y2 y
check "y unchanged after y + x" (y.toArray() |> Array.forall ((=) 1.0))

// The .NET array bridge (PyTorch's NumPy bridge): copies in and out, so later changes cannot leak.
let arr = [| 1.0f; 2.0f; 3.0f; 4.0f |]
let t = Tensor.FromArray(arr, 2, 2)
arr.[0] <- 100.0f
printfn "from float32[]: %O (the array was changed afterwards; the tensor was not)" t
check "tensor independent of its source array" ((t.toArray()).[0] = 1.0)
let back : float32[] = t.ToArray<float32>()
printfn "back to float32[]: %A, Array2D: %A" back (t.toArray2D ())

printfn "x @ x.T = %O" (x.matmul x.T)
printfn "x.reshape(3, 2) = %O" (x.reshape (3, 2))
printfn "x.view(-1) = %O" (x.view -1)
check "matmul" ((x.matmul x.T).toArray() = [| 14.0; 32.0; 32.0; 77.0 |])

// Device placement is explicit, like .cuda()/.cpu(). Without a registered GPU backend, asking for one says so.
printfn "x is on %O; x.cpu() is on %O" x.device (x.cpu ()).device
try x.toDevice (Device.Gpu 0) |> ignore with e -> printfn "toDevice(gpu:0): %s" e.Message
