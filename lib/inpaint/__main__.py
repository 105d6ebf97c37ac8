from inpaint.tools.cli import main

raise SystemExit(main())
