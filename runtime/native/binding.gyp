{
  "targets": [
    {
      "target_name": "weftsys",
      "sources": ["weftsys.c"],
      "cflags": ["-O2", "-Wall", "-D_GNU_SOURCE"]
    }
  ]
}
