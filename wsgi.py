from idp import create_server_app; app = create_server_app()  # noqa: E702, I001
