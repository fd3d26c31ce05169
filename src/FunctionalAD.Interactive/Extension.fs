namespace FunctionalAD.Interactive

open System
open System.IO
open System.Threading.Tasks
open Microsoft.DotNet.Interactive
open Microsoft.DotNet.Interactive.Formatting
open FunctionalAD
open FunctionalAD.Imperative

/// The notebook formatters of FunctionalAD values.
module Formatters =

    let private html<'T> (render: 'T -> string) =
        Formatter.Register<'T>(Action<'T, TextWriter>(fun value writer -> writer.Write(render value)), HtmlFormatter.MimeType)

    /// Registers the HTML formatters (mime type text/html) of Tensor (`Html.tensor`), Params (`Html.parameters`),
    /// Model<Tensor -> Tensor> (`Html.model`) and Module (`Html.module`) with .NET Interactive's Formatter; registering
    /// again replaces them. Charts (Plotly.NET's GenericChart) are shown by Plotly.NET.Interactive's formatter.
    let register () =
        html<Tensor> Html.tensor
        html<Params> Html.parameters
        html<Model<Tensor -> Tensor>> Html.model
        html<Module> Html.``module``

/// The .NET Interactive kernel extension of the FunctionalAD.Interactive package (loaded from the package's
/// interactive-extensions/dotnet folder on `#r "nuget: FunctionalAD.Interactive"`): registers the formatters of
/// FunctionalAD values and Plotly.NET.Interactive's chart formatter.
type KernelExtension() =
    interface IKernelExtension with
        member _.OnLoadAsync(kernel: Kernel) : Task =
            Formatters.register ()
            (Plotly.NET.Interactive.FormatterKernelExtension() :> IKernelExtension).OnLoadAsync kernel
