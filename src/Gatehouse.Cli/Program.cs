using System.CommandLine;

var root = new RootCommand("Gatehouse: an identity-aware access proxy.");
return await root.Parse(args).InvokeAsync();
